import type { Role } from '../db/schema.ts';

export type { Role };

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const satisfies readonly Role[];

/**
 * The rank of each role: a role may do everything a lower rank may. Owners and admins
 * connect, disconnect and change settings; members also view and invite a PagerDuty admin;
 * viewers only view.
 */
const ROLE_RANK: Record<Role, number> = { owner: 4, admin: 3, member: 2, viewer: 1 };

export function hasRole(role: Role, required: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}

export function canManageConnections(role: Role): boolean {
  return hasRole(role, 'admin');
}
