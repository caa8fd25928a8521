import { Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { randomUUID } from 'node:crypto';
import { InvalidationBus } from '../caches/invalidation-bus';
import { EmbeddingClient } from './embedding.client';
import { FactRepository, StoredFact } from './fact.repository';
import { cosine, keywordScore, keywords, topK } from './similarity';

export type RecallMode = 'embedding' | 'keyword';

export const recallTag = (roleId: string) => `recall:${roleId}`;

/** Owner keys: the role's own facts, and (with a person) the role's facts about that person. */
function owners(roleId: string, userId: string): { write: string; read: string[] } {
  const roleOwner = `${roleId}:-`;
  const userOwner = `${roleId}:u:${userId}`;
  return { write: userId ? userOwner : roleOwner, read: userId ? [roleOwner, userOwner] : [roleOwner] };
}

/**
 * Recall memory: facts stored with an embedding from the inference service and searched by
 * cosine similarity; when Embed is unavailable, by keyword overlap. Every answer says which.
 */
@Injectable()
export class RecallService {
  constructor(
    private readonly facts: FactRepository,
    private readonly embedder: EmbeddingClient,
    private readonly bus: InvalidationBus,
  ) {}

  async remember(roleId: string, userId: string, text: string): Promise<{ fact: roleContext.Fact; embedded: boolean }> {
    const embedded = await this.embedder.embed([text]);
    const fact: StoredFact = { id: randomUUID(), text, ...(embedded ? { embedding: embedded.vectors[0], model: embedded.model } : {}) };
    await this.facts.add(owners(roleId, userId).write, fact);
    await this.bus.publish([recallTag(roleId)]);
    return { fact: { id: fact.id, text, score: 0 }, embedded: embedded !== undefined };
  }

  async recall(roleId: string, userId: string, query: string, k: number): Promise<{ facts: roleContext.Fact[]; mode: RecallMode }> {
    const { read } = owners(roleId, userId);
    const byOwner = await Promise.all(read.map(async (owner) => ({ owner, facts: await this.facts.all([owner]) })));
    const all = byOwner.flatMap((o) => o.facts);
    if (all.length === 0 || k === 0) return { facts: [], mode: 'keyword' };
    const queryEmbedding = await this.embedder.embed([query]);
    if (queryEmbedding) {
      const vector = queryEmbedding.vectors[0];
      // Facts stored while no embedder answered (or with another model) are embedded now, once.
      for (const { owner, facts } of byOwner) {
        const stale = facts.filter((f) => !f.embedding || f.model !== queryEmbedding.model || f.embedding.length !== vector.length);
        const filled = stale.length ? await this.embedder.embed(stale.map((f) => f.text)) : undefined;
        if (stale.length && !filled) return this.keywordSearch(all, query, k);
        stale.forEach((f, i) => Object.assign(f, { embedding: filled!.vectors[i], model: filled!.model }));
        await this.facts.update(owner, stale);
      }
      const scored = all.map((f) => ({ id: f.id, text: f.text, score: cosine(vector, f.embedding!) }));
      return { facts: topK(scored, k), mode: 'embedding' };
    }
    return this.keywordSearch(all, query, k);
  }

  private keywordSearch(all: StoredFact[], query: string, k: number): { facts: roleContext.Fact[]; mode: RecallMode } {
    const q = keywords(query);
    const scored = all.map((f) => ({ id: f.id, text: f.text, score: keywordScore(q, keywords(f.text)) })).filter((f) => f.score > 0);
    return { facts: topK(scored, k), mode: 'keyword' };
  }
}
