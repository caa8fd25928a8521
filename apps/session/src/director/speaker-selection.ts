import { RoleSummary, SessionPolicy, TurnPolicy } from '@troupe/domain';

/** What a policy knows when it picks who speaks next. */
export interface SpeakerState {
  roles: RoleSummary[];
  /** Replies already given to this message, in order. */
  spoken: { roleId: string; handoffTo?: string }[];
  /** For `selector`: the role the moderator named, if it named one of the cast. */
  selected?: RoleSummary;
}

type SpeakerPicker = (state: SpeakerState) => RoleSummary | undefined;

/** One picker per turn policy; `selector` relies on the moderator's choice made beforehand. */
export const SPEAKER_PICKERS: Record<TurnPolicy, SpeakerPicker> = {
  single: ({ roles, spoken }) => (spoken.length === 0 ? roles[0] : undefined),
  'round-robin': ({ roles, spoken }) => roles[spoken.length % roles.length],
  selector: ({ roles, spoken, selected }) => selected ?? roles[spoken.length % roles.length],
  handoff: ({ roles, spoken }) => {
    if (spoken.length === 0) return roles[0];
    const target = spoken[spoken.length - 1].handoffTo;
    return target ? roles.find((r) => r.id === target || r.name.toLowerCase() === target.toLowerCase()) : undefined;
  },
};

/** How many replies one message may get: the policy's limit, or one per role of the cast. */
export function maxReplies(policy: SessionPolicy, castSize: number): number {
  if (policy.turnPolicy === 'single') return 1;
  return policy.maxTurnsPerMessage > 0 ? policy.maxTurnsPerMessage : castSize;
}

/** The cast member a moderator's answer names (by id or name), if any. */
export function findNamedRole(roles: RoleSummary[], answer: string): RoleSummary | undefined {
  const text = answer.toLowerCase();
  let best: { role: RoleSummary; at: number } | undefined;
  for (const role of roles) {
    for (const label of [role.id.toLowerCase(), role.name.toLowerCase()]) {
      const at = text.indexOf(label);
      if (at >= 0 && (!best || at < best.at)) best = { role, at };
    }
  }
  return best?.role;
}
