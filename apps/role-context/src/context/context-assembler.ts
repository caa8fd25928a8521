import { roleContext } from '@troupe/contracts';

/**
 * Turns a role and the recent history into the messages its model sees: the persona as the
 * system message, the role's own past replies as "assistant", and everyone else (people and
 * other roles) as "user" attributed by name, so a role in a cast knows who said what.
 */
export function assembleMessages(
  role: roleContext.Role,
  history: roleContext.HistoryEntry[],
): roleContext.ContextMessage[] {
  const messages: roleContext.ContextMessage[] = [{ role: 'system', name: role.name, content: role.persona }];
  for (const entry of history) {
    const own = entry.speakerKind === 'role' && entry.speaker === role.id;
    messages.push({
      role: own ? 'assistant' : 'user',
      name: own ? role.name : entry.speaker,
      content: entry.text,
    });
  }
  return messages;
}
