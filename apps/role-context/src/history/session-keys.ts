/** Redis keys of one session's data in role-context (all expire together: HISTORY_TTL_SECONDS). */
export const sessionKeys = {
  history: (sessionId: string) => `session:${sessionId}:history`,
  windowStarts: (sessionId: string) => `session:${sessionId}:window-starts`,
  summary: (sessionId: string) => `session:${sessionId}:summary`,
  rolePins: (sessionId: string) => `session:${sessionId}:pins`,
};

/** Every key of the session, for refreshing their expiry together. */
export const allSessionKeys = (sessionId: string): string[] => Object.values(sessionKeys).map((key) => key(sessionId));
