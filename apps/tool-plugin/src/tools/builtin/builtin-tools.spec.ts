import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoleDirectory } from '../../peers/peer-ports';
import { ToolRegistry } from '../tool-registry';
import { coordinationTools } from './coordination.tools';
import { datetimeTool } from './datetime.tool';
import { Bm25Index, splitPassages } from './document-index';
import { RoleDocuments, searchDocumentsTool } from './search-documents.tool';

const ctx = (roleId = 'helper') => ({ roleId, sessionId: 's', turnId: 't', userId: '' });

describe('datetime tool', () => {
  const registry = new ToolRegistry(4096);
  registry.register(datetimeTool);

  it('converts an instant into a time zone with its offset (Intl, DST aware)', async () => {
    await expect(registry.invoke('datetime', '{"timezone":"Europe/Paris","instant":"2026-07-01T12:00:00Z"}')).resolves.toMatchObject({
      local: '2026-07-01T14:00:00+02:00',
      weekday: 'Wednesday',
      utcOffset: '+02:00',
    });
    await expect(registry.invoke('datetime', '{"timezone":"Europe/Paris","instant":"2026-01-01T12:00:00Z"}')).resolves.toMatchObject({
      utcOffset: '+01:00',
    });
    await expect(registry.invoke('datetime', '{"timezone":"Asia/Kolkata","instant":"2026-01-01T00:00:00Z"}')).resolves.toMatchObject({
      local: '2026-01-01T05:30:00+05:30',
    });
    await expect(registry.invoke('datetime', '{}')).resolves.toMatchObject({ timezone: 'UTC', utcOffset: '+00:00' });
  });

  it('names a bad time zone or instant', async () => {
    await expect(registry.invoke('datetime', '{"timezone":"Mars/Olympus"}')).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('timezone') });
    await expect(registry.invoke('datetime', '{"instant":"yesterday"}')).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('instant') });
  });
});

describe('BM25 document search', () => {
  it('ranks the passage with the rare query words first', () => {
    const index = new Bm25Index([
      ...splitPassages('a.md', 'The cat sat on the mat.\n\nDogs chase cats in the garden.'),
      ...splitPassages('b.md', 'Invoices are due within thirty days of the invoice date.'),
    ]);
    const hits = index.search('when is the invoice due', 2);
    expect(hits[0]).toMatchObject({ document: 'b.md', passage: 1 });
    expect(hits[1]).toMatchObject({ document: 'a.md' });
    expect(hits[1].score).toBeLessThan(hits[0].score / 2);
    expect(index.search('zebra', 3)).toEqual([]);
  });

  it('searches only the calling role\'s folder and sees new files without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-docs-'));
    try {
      mkdirSync(join(dir, 'helper'));
      writeFileSync(join(dir, 'helper', 'refunds.md'), '# Refunds\n\nRefunds are paid within 14 days.\n\nShipping is free over 50 euros.');
      const registry = new ToolRegistry(64 * 1024);
      registry.register(searchDocumentsTool(new RoleDocuments(dir)));
      const first = (await registry.invoke('search_documents', '{"query":"refund days"}', ctx())) as { passages: { document: string; text: string }[] };
      expect(first.passages[0]).toMatchObject({ document: 'refunds.md', text: expect.stringContaining('14 days') });
      await expect(registry.invoke('search_documents', '{"query":"refund"}', ctx('critic'))).resolves.toEqual({ passages: [], searched: 0 });
      writeFileSync(join(dir, 'helper', 'hours.txt'), 'The shop opens at nine.');
      const second = (await registry.invoke('search_documents', '{"query":"when does the shop open"}', ctx())) as { passages: { document: string }[] };
      expect(second.passages[0].document).toBe('hours.txt');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('handoff and delegate', () => {
  class Roles extends RoleDirectory {
    async grantsOf(id: string) {
      return ['critic', 'helper'].includes(id) ? [] : null;
    }
  }
  const registry = new ToolRegistry(4096);
  coordinationTools(new Roles()).forEach((t) => registry.register(t));

  it('return the directive the director carries out', async () => {
    await expect(registry.invoke('handoff', '{"to_role":"critic","reason":"needs review"}', ctx())).resolves.toMatchObject({
      directive: 'handoff',
      to_role: 'critic',
      reason: 'needs review',
    });
    await expect(registry.invoke('delegate', '{"role":"critic","task":"review the draft"}', ctx())).resolves.toMatchObject({
      directive: 'delegate',
      role: 'critic',
      task: 'review the draft',
    });
  });

  it('name an unknown role or a missing field', async () => {
    await expect(registry.invoke('handoff', '{"to_role":"ghost","reason":"x"}', ctx())).rejects.toMatchObject({ message: 'to_role: no role "ghost"' });
    await expect(registry.invoke('handoff', '{"to_role":"helper","reason":"x"}', ctx())).rejects.toMatchObject({ message: expect.stringContaining('yourself') });
    await expect(registry.invoke('delegate', '{"role":"critic"}', ctx())).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: 'task: must have required property \'task\'' });
  });
});
