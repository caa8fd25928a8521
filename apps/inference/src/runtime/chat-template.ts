import type { ByteLevelBpeTokenizer } from '@troupe/tokenizer';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  /** Speaker name, rendered as "name: " before the content (useful with several roles). */
  name?: string;
  content: string;
}

/** Special tokens of Troupe's chat format (the tiny decoder's tokenizer has them all). */
export const CHAT_TOKENS = {
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
  end: '<|end|>',
} as const;

function header(role: ChatMessage['role']): string {
  return `${CHAT_TOKENS[role]}\n`;
}

function body(m: ChatMessage): string {
  return (m.name ? `${m.name}: ` : '') + m.content;
}

/**
 * `<|system|>\n...<|end|>\n<|user|>\nname: ...<|end|>\n<|assistant|>\n` — ends with the
 * assistant header so the model writes the next turn and stops at `<|end|>`.
 */
export function renderChatPrompt(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${header(m.role)}${body(m)}${CHAT_TOKENS.end}\n`).join('') + header('assistant');
}

/**
 * Token ids of chat messages a tokenizer has encoded, by message. A chat sends its whole history
 * on every turn, and a role its persona and memory blocks: without this, each call encoded
 * every one of those messages again (26 µs for a 60-character message here, so ~0.3 ms a call
 * for a ten-message history), although only the newest one is new. Least recently used go
 * first once the entries hold `maxTokens` ids; a message longer than a quarter of that is
 * encoded every time rather than push the others out.
 */
export class MessageTokenCache {
  private readonly entries = new Map<string, readonly number[]>();
  private held = 0;

  constructor(readonly maxTokens = 1 << 20) {}

  /** Ids held in all entries. */
  get heldTokens(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The ids of `key`, from `encode` when not held (the result is shared: never change it). */
  get(key: string, encode: () => number[]): readonly number[] {
    const known = this.entries.get(key);
    if (known) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.entries.delete(key);
      this.entries.set(key, known);
      return known;
    }
    const ids = encode();
    if (ids.length > this.maxTokens / 4) return ids;
    this.entries.set(key, ids);
    this.held += ids.length;
    for (const [oldest, old] of this.entries) {
      if (this.held <= this.maxTokens) break;
      this.entries.delete(oldest);
      this.held -= old.length;
    }
    return ids;
  }
}

/** One cache per tokenizer (a model's version has its own), gone with it. */
const messageCaches = new WeakMap<ByteLevelBpeTokenizer, MessageTokenCache>();

function messageCacheOf(tokenizer: ByteLevelBpeTokenizer): MessageTokenCache {
  let cache = messageCaches.get(tokenizer);
  if (!cache) messageCaches.set(tokenizer, (cache = new MessageTokenCache()));
  return cache;
}

/** One message's turn: header, body (special-token text kept literal), end. */
function encodeMessage(tokenizer: ByteLevelBpeTokenizer, m: ChatMessage): number[] {
  return [...tokenizer.encode(header(m.role)), ...tokenizer.encode(body(m), { parseSpecialTokens: false }), ...tokenizer.encode(`${CHAT_TOKENS.end}\n`)];
}

/**
 * Same layout as renderChatPrompt, tokenized so that special-token text inside message content
 * stays plain text: a user typing "<|end|>" cannot close their turn or forge a system turn.
 * Messages this tokenizer encoded before come from its MessageTokenCache.
 */
export function encodeChatPrompt(tokenizer: ByteLevelBpeTokenizer, messages: readonly ChatMessage[], cache = messageCacheOf(tokenizer)): number[] {
  const ids: number[] = [];
  for (const m of messages) {
    // Role and body cannot run into each other: a role name never holds the separator.
    const turn = cache.get(`${m.role}\u0000${body(m)}`, () => encodeMessage(tokenizer, m));
    // A loop, not push(...turn): spreading a long message's ids as arguments overflows the stack.
    for (let i = 0; i < turn.length; i++) ids.push(turn[i]);
  }
  for (const id of tokenizer.encode(header('assistant'))) ids.push(id);
  return ids;
}
