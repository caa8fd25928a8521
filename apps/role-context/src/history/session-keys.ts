/** Redis keys of one session's data in role-context (all expire together: HISTORY_TTL_SECONDS). */
export const sessionKeys = {
  history: (sessionId: string) => `session:${sessionId}:history`,
  windowStarts: (sessionId: string) => `session:${sessionId}:window-starts`,
  summary: (sessionId: string) => `session:${sessionId}:summary`,
  rolePins: (sessionId: string) => `session:${sessionId}:pins`,
};

/** Every key of the session, for refreshing their expiry together. */
export const allSessionKeys = (sessionId: string): string[] => Object.values(sessionKeys).map((key) => key(sessionId));

/** Adds to `write` a refresh of `keys`' expiry to `ttlSeconds` from now (0: they never expire). */
export function refreshExpiry<W extends { pexpire(key: string, ms: number): unknown }>(write: W, ttlSeconds: number, keys: readonly string[]): W {
  if (ttlSeconds > 0) for (const key of keys) write.pexpire(key, ttlSeconds * 1000);
  return write;
}
