import { SetMetadata } from '@nestjs/common';

/** Operator roles, each allowed everything the ones after it are. */
export const ADMIN_ROLES = ['admin', 'operator', 'viewer'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export const ADMIN_ROLE_KEY = 'troupe:admin-role';

/** The least operator role a route needs (admin > operator > viewer). */
export const RequireRole = (role: AdminRole) => SetMetadata(ADMIN_ROLE_KEY, role);

export function roleAllows(granted: readonly string[], needed: AdminRole): boolean {
  const rank = (r: string) => ADMIN_ROLES.indexOf(r as AdminRole);
  const best = Math.min(...granted.map(rank).filter((i) => i >= 0));
  return Number.isFinite(best) && best <= rank(needed);
}

/** Who made an admin call: an API key's name or a JWT's subject. */
export interface AdminActor {
  id: string;
  via: 'api-key' | 'jwt' | 'anonymous';
  roles: string[];
}

/** API keys from config: `name:role:key,...`. */
export function parseApiKeys(spec: string): Map<string, AdminActor> {
  const keys = new Map<string, AdminActor>();
  for (const entry of spec.split(',').filter(Boolean)) {
    const [name, role, key] = entry.split(':');
    keys.set(key, { id: `key:${name}`, via: 'api-key', roles: [role] });
  }
  return keys;
}
