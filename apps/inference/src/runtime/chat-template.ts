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
 * Same layout as renderChatPrompt, tokenized so that special-token text inside message content
 * stays plain text: a user typing "<|end|>" cannot close their turn or forge a system turn.
 */
export function encodeChatPrompt(tokenizer: ByteLevelBpeTokenizer, messages: readonly ChatMessage[]): number[] {
  const ids: number[] = [];
  for (const m of messages) {
    ids.push(...tokenizer.encode(header(m.role)));
    ids.push(...tokenizer.encode(body(m), { parseSpecialTokens: false }));
    ids.push(...tokenizer.encode(`${CHAT_TOKENS.end}\n`));
  }
  ids.push(...tokenizer.encode(header('assistant')));
  return ids;
}
