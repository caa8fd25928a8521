import { Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { reusableResponse } from '@troupe/grpc';
import { createHash } from 'node:crypto';
import { CacheRegistry } from '../caches/cache-registry';
import { InvalidationBus } from '../caches/invalidation-bus';
import { HistoryEntry } from '../history/history.repository';
import { HistoryService, sessionTag } from '../history/history.service';
import { MemoryBlock } from '../memory/memory-block.repository';
import { MemoryService, memoryTags } from '../memory/memory.service';
import { RecallService, recallTag } from '../recall/recall.service';
import { RoleContextConfig } from '../role-context.config';
import { placeholders, renderPersona } from '../roles/persona-template';
import { StoredRole } from '../roles/role';
import { RolesService, roleTag } from '../roles/roles.service';
import { MessageTokenizer } from '../tokens/token-counter';
import { TokenCounterService } from '../tokens/token-counter.service';
import { CountedMessage, fitWindow } from './context-assembler';
import { RolePinsRepository } from './role-pins.repository';

export class RoleNotFoundError extends Error {}
export class ContextRequestError extends Error {}

export interface AssembleRequest {
  sessionId: string;
  roleId: string;
  roleVersion: number;
  followLatest: boolean;
  userId: string;
  variables: Record<string, string>;
  /** Appended to the session's history first (see appendThenAssemble). */
  append?: Omit<HistoryEntry, 'id' | 'createdAt'> | null;
}

type Assembled = roleContext.AssembleContextResponse;

/** The rendered persona and its tokenized form: the prompt prefix every turn of the role starts with. */
interface PersonaPrefix {
  content: string;
  tokenIds: number[] | null;
  tokens: number;
}

/**
 * Builds what a role sees on its turn. Warm path: the assembled window from the window cache
 * (dropped on every instance when the session gets a turn, the role changes, its memory is
 * edited or a fact is stored). Cold path: resolve the pinned role version, the persona prefix
 * (from the role's cache class), memory blocks, summary and history, recalled facts; fit them
 * into the token budget with the bound model's tokenizer.
 */
@Injectable()
export class ContextService {
  constructor(
    private readonly roles: RolesService,
    private readonly pins: RolePinsRepository,
    private readonly history: HistoryService,
    private readonly memory: MemoryService,
    private readonly recall: RecallService,
    private readonly tokens: TokenCounterService,
    private readonly caches: CacheRegistry,
    private readonly bus: InvalidationBus,
    private readonly config: RoleContextConfig,
  ) {}

  async assemble(request: AssembleRequest): Promise<Assembled> {
    if (request.append) return this.appendThenAssemble(request, request.append);
    // A hit is the answer itself, already encoded: no copy, no protobuf work (reusableResponse).
    const hit = this.caches.forClass(this.config.WINDOW_CACHE_CLASS)?.getLocal<Assembled>(windowKey(request));
    if (hit) return hit;
    return this.build(request);
  }

  /**
   * A turn's opening entry, then its context, in one call: the role and the variables are
   * checked before anything is written (a refusal means nothing was appended), then the entry
   * is appended (which drops the session's cached windows everywhere) and the window is built
   * from what the append read back in the same round trip. The pin, the append with its read
   * and the memory blocks go to Redis together: one round trip's wait where there were three.
   */
  private async appendThenAssemble(request: AssembleRequest, entry: Omit<HistoryEntry, 'id' | 'createdAt'>): Promise<Assembled> {
    const epoch = this.bus.epoch;
    const { role, pinned } = await this.roleAndPin(request);
    pinned.catch(() => undefined); // awaited below; a refused request must not leave it unhandled
    this.variableValues(role, request);
    const blocks = this.memory.visible(role, request.userId);
    blocks.catch(() => undefined);
    const [appended] = await Promise.all([this.history.appendAndRead(request.sessionId, entry, this.historyWindowSize), pinned]);
    // The append's own invalidation of the session's windows came before the window it read.
    const reads = { epoch, sessionEpoch: this.bus.epoch, history: Promise.resolve(appended.window!), blocks };
    return { ...(await this.build(request, role, reads)), appendedId: appended.id };
  }

  private get historyWindowSize(): number {
    return this.config.HISTORY_MAX_ENTRIES + this.config.HISTORY_COMPACTION_BATCH;
  }

  /**
   * The cold path: everything read and fitted into the budget, then cached (unless invalidated
   * meanwhile). `reads`: what the caller has read or is reading already, the bus epoch from
   * before it started, and the one from after the session's history was read.
   */
  private async build(
    request: AssembleRequest,
    resolved?: StoredRole,
    reads?: { epoch: number; sessionEpoch: number; history: Promise<{ entries: HistoryEntry[]; summary: string }>; blocks: Promise<MemoryBlock[]> },
  ): Promise<Assembled> {
    const windows = this.caches.forClass(this.config.WINDOW_CACHE_CLASS);
    // An invalidation that lands while we read must not be undone by caching what we read.
    const epoch = reads?.epoch ?? this.bus.epoch;
    // The history does not depend on the role: it is read while the role's pin is resolved.
    const historyRead = reads?.history ?? this.history.read(request.sessionId, this.historyWindowSize);
    historyRead.catch(() => undefined); // awaited below; a failed role lookup must not leave it unhandled
    const role = resolved ?? (await this.resolveRole(request));
    const values = this.variableValues(role, request);
    const tokenizer = this.tokens.forModel(role.model);
    const [persona, { entries, summary }, blocks] = await Promise.all([
      this.personaPrefix(role, values, tokenizer),
      historyRead,
      reads?.blocks ?? this.memory.visible(role, request.userId),
    ]);

    const { extras, summaryAt, recallMode } = await this.extras(role, request.userId, tokenizer, blocks, summary, entries);
    const window = fitWindow(role, {
      persona: { message: { role: 'system', name: role.name, content: persona.content }, tokens: persona.tokens },
      extras,
      history: entries,
      budget: role.contextTokenBudget,
      trailer: tokenizer.trailer(),
      count: (m) => tokenizer.countMessage(m),
    });
    const assembled: Assembled = {
      role,
      messages: window.messages,
      historyEntries: window.historyEntries,
      tokenCount: window.tokens,
      tokenBudget: role.contextTokenBudget,
      tokenizer: tokenizer.label,
      summaryIncluded: summaryAt >= 0 && window.included[summaryAt],
      recallMode,
      cached: false,
      appendedId: '',
    };
    if (window.historyEntries > 0) {
      const oldestShown = entries[entries.length - window.historyEntries].id;
      await this.history.noteWindow(request.sessionId, role.id, oldestShown, entries.length - window.historyEntries);
    }
    const session = sessionTag(request.sessionId);
    const others = [roleTag(role.id), ...memoryTags(role), recallTag(role.id)];
    const tags = [session, ...others];
    const invalidated = reads
      ? this.bus.invalidatedSince(reads.sessionEpoch, [session]) || this.bus.invalidatedSince(epoch, others)
      : this.bus.invalidatedSince(epoch, tags);
    if (windows && !invalidated) {
      windows.setLocal(windowKey(request), reusableResponse({ ...assembled, cached: true }), approximateBytes(assembled), tags);
    }
    return assembled;
  }

  /** Memory blocks, the rolling summary and recalled facts, each as a counted system message. */
  private async extras(
    role: StoredRole,
    userId: string,
    tokenizer: MessageTokenizer,
    blocks: MemoryBlock[],
    summary: string,
    entries: roleContext.HistoryEntry[],
  ): Promise<{ extras: CountedMessage[]; summaryAt: number; recallMode: string }> {
    const extras: CountedMessage[] = [];
    const add = (name: string, content: string) => extras.push({ message: { role: 'system', name, content }, tokens: tokenizer.countMessage({ role: 'system', name, content }) }) - 1;
    const withText = blocks.filter((b) => b.text.trim().length > 0);
    if (withText.length) add('memory', ['Memory blocks:', ...withText.map((b) => `[${b.name}] (${b.scope})\n${b.text}`)].join('\n'));
    const summaryAt = summary ? add('summary', `Summary of the earlier conversation:\n${summary}`) : -1;
    let recallMode = 'none';
    const k = role.memory?.recallTopK ?? 0;
    const query = [...entries].reverse().find((e) => e.speakerKind === 'person')?.text;
    if (k > 0 && query) {
      const found = await this.recall.recall(role.id, userId, query, k);
      if (found.facts.length) {
        recallMode = found.mode;
        add('recall', ['Facts you remember:', ...found.facts.map((f) => `- ${f.text}`)].join('\n'));
      }
    }
    return { extras, summaryAt, recallMode };
  }

  /**
   * An explicit version (re-pins the session), the latest (follow), or the session's pinned
   * version: pinned to the latest on its first turn, in one round trip either way.
   */
  private async resolveRole(request: AssembleRequest): Promise<StoredRole> {
    const { role, pinned } = await this.roleAndPin(request);
    await pinned;
    return role;
  }

  /** resolveRole, with an explicit version's re-pin still under way (`pinned`). */
  private async roleAndPin(request: AssembleRequest): Promise<{ role: StoredRole; pinned: Promise<void> }> {
    const { sessionId, roleId } = request;
    if (request.roleVersion > 0) {
      const role = await this.roles.get(roleId, request.roleVersion);
      if (!role) throw new RoleNotFoundError(`role "${roleId}" has no version ${request.roleVersion}`);
      const pinned = this.pins.repin(sessionId, roleId, role.version).then(async (before) => {
        // Windows cached under the old pin must go (here and on every other instance).
        if (before !== undefined && before !== role.version) await this.bus.publish([sessionTag(sessionId)]);
      });
      return { role, pinned };
    }
    return { role: await this.resolveLatestOrPinned(request), pinned: Promise.resolve() };
  }

  /** The latest version (followLatest), or the session's pin: pinned to the latest on its first turn. */
  private async resolveLatestOrPinned(request: AssembleRequest): Promise<StoredRole> {
    const { sessionId, roleId } = request;
    // The latest version is usually in this instance's cache: no round trip.
    const latest = await this.roles.get(roleId);
    if (!latest) {
      // Deleted since: a session pinned to one of its versions keeps it.
      const pinned = request.followLatest ? undefined : await this.pins.get(sessionId, roleId);
      const role = pinned !== undefined ? await this.roles.get(roleId, pinned) : undefined;
      if (!role) throw new RoleNotFoundError(`role "${roleId}" not found`);
      return role;
    }
    if (request.followLatest) return latest;
    const version = await this.pins.pinIfAbsent(sessionId, roleId, latest.version);
    return version === latest.version ? latest : ((await this.roles.get(roleId, version)) ?? latest);
  }

  private variableValues(role: StoredRole, request: AssembleRequest): Record<string, string> {
    for (const name of Object.keys(request.variables)) {
      if (!(name in (role.variables ?? {}))) {
        throw new ContextRequestError(`variables.${name}: role "${role.id}" v${role.version} declares no such variable`);
      }
    }
    return {
      ...role.variables,
      ...request.variables,
      role_name: role.name,
      goals: (role.goals ?? []).join('; '),
      style: role.style ?? '',
      user: request.userId,
    };
  }

  private async personaPrefix(role: StoredRole, values: Record<string, string>, tokenizer: MessageTokenizer): Promise<PersonaPrefix> {
    const used = placeholders(role.persona).map((name) => [name, values[name] ?? '']);
    const cache = this.caches.forClass(role.cacheClass);
    const key = `persona:${role.id}:${role.version}:${digest(JSON.stringify(used))}`;
    const hit = await cache?.get<PersonaPrefix>(key);
    if (hit) return hit;
    const content = renderPersona(role.persona, values);
    const message = { role: 'system', name: role.name, content };
    const tokenIds = tokenizer.encodeMessage(message) ?? null;
    const prefix: PersonaPrefix = { content, tokenIds, tokens: tokenIds?.length ?? tokenizer.countMessage(message) };
    await cache?.set(key, prefix, [roleTag(role.id)]);
    return prefix;
  }
}

function digest(text: string): string {
  return createHash('sha1').update(text).digest('base64url').slice(0, 16);
}

function windowKey(r: AssembleRequest): string {
  const pin = r.roleVersion > 0 ? `v${r.roleVersion}` : r.followLatest ? 'latest' : 'pinned';
  const vars = Object.keys(r.variables).length ? digest(JSON.stringify(Object.entries(r.variables).sort())) : '-';
  return `window:${r.sessionId}:${r.roleId}:${pin}:${r.userId}:${vars}`;
}

/**
 * Text is held twice: as strings (up to 2 bytes a character) and once more in the encoded
 * answer (about 1 byte a character); each message and field costs some object overhead too.
 */
function approximateBytes(a: Assembled): number {
  let bytes = 512;
  for (const m of a.messages) bytes += 3 * (m.content.length + m.name.length + m.role.length) + 96;
  return bytes + 3 * (a.role?.persona.length ?? 0);
}
