import { roleContext } from '@troupe/contracts';
import { ChatLikeMessage } from '../tokens/token-counter';

export type ContextMessage = roleContext.ContextMessage;

/** A message counted once, so the budget arithmetic never re-tokenizes it. */
export interface CountedMessage {
  message: ContextMessage;
  tokens: number;
}

export interface WindowInput {
  persona: CountedMessage;
  /** Memory blocks, rolling summary, recalled facts — in the order they should appear. */
  extras: CountedMessage[];
  /** Oldest first. */
  history: roleContext.HistoryEntry[];
  budget: number;
  /** Tokens the prompt needs beyond its messages (the trailing assistant header). */
  trailer: number;
  count(message: ChatLikeMessage): number;
}

export interface Window {
  messages: ContextMessage[];
  tokens: number;
  historyEntries: number;
  /** Which extras made it in (same order as given). */
  included: boolean[];
}

/**
 * A history entry as a message for this role: its own past replies are "assistant", everyone
 * else (people and other roles) is "user" attributed by name, so a role in a cast knows who
 * said what.
 */
export function historyMessage(role: roleContext.Role, entry: roleContext.HistoryEntry): ContextMessage {
  const own = entry.speakerKind === 'role' && entry.speaker === role.id;
  return { role: own ? 'assistant' : 'user', name: own ? role.name : entry.speaker, content: entry.text };
}

/**
 * Fits a context into the role's token budget: the persona always; then memory, summary and
 * recalled facts while they fit; then as many of the most recent turns as fit, newest first,
 * stopping at the first that does not (so the window is a contiguous tail of the history).
 */
export function fitWindow(role: roleContext.Role, input: WindowInput): Window {
  let used = input.persona.tokens + input.trailer;
  const included = input.extras.map((extra) => {
    if (used + extra.tokens > input.budget) return false;
    used += extra.tokens;
    return true;
  });
  const turns: ContextMessage[] = [];
  for (let i = input.history.length - 1; i >= 0; i--) {
    const message = historyMessage(role, input.history[i]);
    const tokens = input.count(message);
    if (used + tokens > input.budget) break;
    used += tokens;
    turns.push(message);
  }
  turns.reverse();
  return {
    messages: [input.persona.message, ...input.extras.filter((_, i) => included[i]).map((e) => e.message), ...turns],
    tokens: used,
    historyEntries: turns.length,
    included,
  };
}
