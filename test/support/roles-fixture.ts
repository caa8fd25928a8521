import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './service-stack';

/** A roles folder for one test: the repo's roles plus extra files (objects, or raw text). */
export function makeRolesDir(extra: Record<string, object | string> = {}): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-roles-'));
  cpSync(join(REPO_ROOT, 'roles'), dir, { recursive: true });
  for (const [file, content] of Object.entries(extra)) {
    writeFileSync(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A role that talks until its token limit, so a test can act while it is still answering.
 * With the `paced` model (5 ms a token) the timing is certain; the tiny decoder is faster.
 */
export const longTalkerRole = (maxNewTokens: number, model = 'tiny-decoder') => ({
  id: 'long-talker',
  name: 'Long Talker',
  persona: 'You never stop talking.',
  model,
  generation: { maxNewTokens, temperature: 1, topK: 0, topP: 1 },
});

/** A role on the `paced` model, whose scripted replies call tools ("calculate", "announce", "delegate"). */
export const stagehandRole = (tools: string[]) => ({
  id: 'stagehand',
  name: 'Stagehand',
  persona: 'You run the stage.',
  model: 'paced',
  generation: { maxNewTokens: 200 },
  tools,
});
