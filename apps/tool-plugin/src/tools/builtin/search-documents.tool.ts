import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tool, ToolCallError } from '../tool';
import { Bm25Index, splitPassages } from './document-index';

const DOCUMENT_FILE = /\.(md|txt)$/i;
const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

/**
 * Documents attached to a role: the files of `<documentsDir>/<roleId>/`. The index is rebuilt
 * when a file there changes, so attaching a document needs no restart.
 */
export class RoleDocuments {
  private readonly indexes = new Map<string, { signature: string; index: Bm25Index }>();

  constructor(private readonly documentsDir: string) {}

  index(roleId: string): Bm25Index {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(roleId)) return new Bm25Index([]);
    const dir = join(this.documentsDir, roleId);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => DOCUMENT_FILE.test(f)).sort() : [];
    const signature = files.map((f) => `${f}:${statSync(join(dir, f)).mtimeMs}`).join('|');
    const cached = this.indexes.get(roleId);
    if (cached?.signature === signature) return cached.index;
    const passages = files.flatMap((f) => {
      const path = join(dir, f);
      if (statSync(path).size > MAX_DOCUMENT_BYTES) return [];
      return splitPassages(f, readFileSync(path, 'utf8'));
    });
    const index = new Bm25Index(passages);
    this.indexes.set(roleId, { signature, index });
    return index;
  }
}

export function searchDocumentsTool(documents: RoleDocuments): Tool<{ query: string; limit?: number }> {
  return {
    name: 'search_documents',
    description: 'Searches the documents attached to you (BM25 ranking) and returns the best matching passages with their file names.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 1000 },
        limit: { type: 'integer', minimum: 1, maximum: 20, description: 'Most passages to return, default 3' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    hints: { readOnly: true, idempotent: true },
    source: 'builtin',
    run: ({ query, limit = 3 }, ctx) => {
      if (!ctx.roleId) throw new ToolCallError('INVALID_ARGUMENTS', 'role_id: search_documents searches the calling role\'s documents');
      const index = documents.index(ctx.roleId);
      return { passages: index.search(query, limit), searched: index.size };
    },
  };
}
