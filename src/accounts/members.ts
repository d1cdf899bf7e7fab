import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, Role } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import type { User } from './repository.ts';
import { hasRole } from './roles.ts';

/** A member of an organization as the members list shows it. */
export interface Member {
  userId: string;
  name: string;
  email: string;
  role: Role;
  joinedAt: Date;
}

/**
 * Why a membership change was rejected:
 * - `not_found`: the user is not a member of the organization.
 * - `admin_required`: the actor is no longer an owner or admin, because a concurrent change demoted them.
 * - `owner_required`: only an owner may make someone an owner or change or remove an owner.
 * - `last_owner`: the change would leave the organization without an owner.
 */
export type MembershipChangeError = 'not_found' | 'admin_required' | 'owner_required' | 'last_owner';

export async function listMembers(db: Kysely<DB>, organizationId: string): Promise<Member[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.name', 'users.email', 'memberships.role', 'memberships.created_at'])
    .where('memberships.organization_id', '=', organizationId)
    .orderBy('users.name')
    .orderBy('users.id')
    .execute();
  return rows.map((row) => ({ userId: row.id, name: row.name, email: row.email, role: row.role, joinedAt: row.created_at }));
}

/** Checks whether `actorRole` may give `role` to someone: admins give any role but owner, owners any role. */
export function canAssignRole(actorRole: Role, role: Role): boolean {
  if (role === 'owner') return actorRole === 'owner';
  return actorRole === 'owner' || actorRole === 'admin';
}

/**
 * Changes a member's role. Admins may not make an owner nor change an owner, and no change may
 * leave the organization without an owner. The organization's memberships are locked while the
 * rules are checked, so two owners demoting each other at once cannot both succeed.
 */
export async function changeMemberRole(
  db: Kysely<DB>,
  change: { organizationId: string; actor: User; userId: string; role: Role },
): Promise<Result<{ member: Member; previousRole: Role }, MembershipChangeError>> {
  return db.transaction().execute(async (trx) => {
    const memberships = await lockMemberships(trx, change.organizationId);
    const target = memberships.find((membership) => membership.user_id === change.userId);
    if (!target) return err('not_found' as const);

    const actorRole = lockedRoleOf(memberships, change.actor);
    if (!hasRole(actorRole, 'admin')) return err('admin_required' as const);
    const isOwnerInvolved = target.role === 'owner' || change.role === 'owner';
    if (isOwnerInvolved && actorRole !== 'owner') return err('owner_required' as const);
    if (target.role === 'owner' && change.role !== 'owner' && countOwners(memberships) === 1) return err('last_owner' as const);

    await trx
      .updateTable('memberships')
      .set({ role: change.role })
      .where('organization_id', '=', change.organizationId)
      .where('user_id', '=', change.userId)
      .execute();
    const member = await findMember(trx, change.organizationId, change.userId);
    return ok({ member, previousRole: target.role });
  });
}

/**
 * Removes a member from an organization. The foreign key from sessions to memberships deletes
 * the member's sessions in that organization, so their access ends with this transaction.
 * Members may remove themselves unless they are its last owner.
 */
export async function removeMember(db: Kysely<DB>, removal: { organizationId: string; actor: User; userId: string }): Promise<Result<Member, MembershipChangeError>> {
  return db.transaction().execute(async (trx) => {
    const memberships = await lockMemberships(trx, removal.organizationId);
    const target = memberships.find((membership) => membership.user_id === removal.userId);
    if (!target) return err('not_found' as const);

    const isSelf = removal.userId === removal.actor.id;
    const actorRole = lockedRoleOf(memberships, removal.actor);
    if (!isSelf && !hasRole(actorRole, 'admin')) return err('admin_required' as const);
    if (target.role === 'owner' && !isSelf && actorRole !== 'owner') return err('owner_required' as const);
    if (target.role === 'owner' && countOwners(memberships) === 1) return err('last_owner' as const);

    const member = await findMember(trx, removal.organizationId, removal.userId);
    await trx.deleteFrom('memberships').where('organization_id', '=', removal.organizationId).where('user_id', '=', removal.userId).execute();
    return ok(member);
  });
}

/** Reads and row-locks every membership of an organization until the transaction ends. */
async function lockMemberships(trx: Transaction<DB>, organizationId: string): Promise<{ user_id: string; role: Role }[]> {
  // The organization row is locked first so that memberships added concurrently wait too.
  await sql`select id from organizations where id = ${organizationId} for update`.execute(trx);
  return trx.selectFrom('memberships').select(['user_id', 'role']).where('organization_id', '=', organizationId).forUpdate().execute();
}

/**
 * Returns the actor's role as locked in this transaction, because a concurrent change may have
 * demoted the actor since the session was read. An actor no longer a member counts as a viewer.
 */
function lockedRoleOf(memberships: { user_id: string; role: Role }[], actor: User): Role {
  return memberships.find((membership) => membership.user_id === actor.id)?.role ?? 'viewer';
}

function countOwners(memberships: { role: Role }[]): number {
  return memberships.filter((membership) => membership.role === 'owner').length;
}

async function findMember(trx: Transaction<DB>, organizationId: string, userId: string): Promise<Member> {
  const row = await trx
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.name', 'users.email', 'memberships.role', 'memberships.created_at'])
    .where('memberships.organization_id', '=', organizationId)
    .where('memberships.user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { userId: row.id, name: row.name, email: row.email, role: row.role, joinedAt: row.created_at };
}
