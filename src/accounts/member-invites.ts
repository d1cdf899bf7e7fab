import type { Kysely } from 'kysely';
import type { DB, Role } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { findAccountForSignIn, insertAccount, insertMembership, type User } from './repository.ts';
import { generateToken, hashToken } from './tokens.ts';

/** PostgreSQL's SQLSTATE for a unique constraint violation. */
const UNIQUE_VIOLATION = '23505';

/** How long a link to join an organization works. */
export const MEMBER_INVITE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** An invitation to join an organization that can still be accepted. */
export interface PendingMemberInvite {
  id: string;
  email: string;
  role: Role;
  inviterName: string | null;
  expiresAt: Date;
  createdAt: Date;
}

/** The invitation a join link opens, with what the join page needs to show. */
export interface OpenedMemberInvite {
  id: string;
  organizationId: string;
  organizationName: string;
  email: string;
  role: Role;
  /** Whether the invited address already has a Seatwise account, which then joins with its password. */
  hasAccount: boolean;
}

/**
 * Creates an invitation and returns the link token; only its hash is stored. A pending
 * invitation of the same address to the same organization is revoked, so only the newest link works.
 */
export async function createMemberInvite(
  db: Kysely<DB>,
  invite: { organizationId: string; inviterUserId: string; email: string; role: Role },
  now = new Date(),
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = generateToken();
  const expiresAt = new Date(now.getTime() + MEMBER_INVITE_LIFETIME_MS);
  const email = invite.email.trim().toLowerCase();
  const id = await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('member_invites')
      .set({ revoked_at: now })
      .where('organization_id', '=', invite.organizationId)
      .where('email', '=', email)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
    const row = await trx
      .insertInto('member_invites')
      .values({
        organization_id: invite.organizationId,
        inviter_user_id: invite.inviterUserId,
        email,
        role: invite.role,
        token_hash: hashToken(token),
        expires_at: expiresAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  });
  return { id, token, expiresAt };
}

/** Lists the invitations of an organization that are neither accepted, revoked nor expired, newest first. */
export async function listPendingMemberInvites(db: Kysely<DB>, organizationId: string, now = new Date()): Promise<PendingMemberInvite[]> {
  const rows = await db
    .selectFrom('member_invites as invite')
    .leftJoin('users as inviter', 'inviter.id', 'invite.inviter_user_id')
    .select(['invite.id', 'invite.email', 'invite.role', 'inviter.name as inviter_name', 'invite.expires_at', 'invite.created_at'])
    .where('invite.organization_id', '=', organizationId)
    .where('invite.accepted_at', 'is', null)
    .where('invite.revoked_at', 'is', null)
    .where('invite.expires_at', '>', now)
    .orderBy('invite.created_at', 'desc')
    .execute();
  return rows.map((row) => ({ id: row.id, email: row.email, role: row.role, inviterName: row.inviter_name, expiresAt: row.expires_at, createdAt: row.created_at }));
}

/** Revokes a pending invitation of the organization, so its link stops working. */
export async function revokeMemberInvite(
  db: Kysely<DB>,
  organizationId: string,
  inviteId: string,
  now = new Date(),
): Promise<Result<{ email: string; role: Role }, 'not_found'>> {
  const row = await db
    .updateTable('member_invites')
    .set({ revoked_at: now })
    .where('organization_id', '=', organizationId)
    .where('id', '=', inviteId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .returning(['email', 'role'])
    .executeTakeFirst();
  return row ? ok({ email: row.email, role: row.role }) : err('not_found');
}

/** Opens the invitation of a join link while it can be used: not accepted, revoked or expired. */
export async function readMemberInvite(db: Kysely<DB>, token: string, now = new Date()): Promise<Result<OpenedMemberInvite, 'invalid'>> {
  if (token === '') return err('invalid');
  const row = await db
    .selectFrom('member_invites as invite')
    .innerJoin('organizations as organization', 'organization.id', 'invite.organization_id')
    .select(['invite.id', 'invite.organization_id', 'organization.name', 'invite.email', 'invite.role', 'invite.expires_at', 'invite.accepted_at', 'invite.revoked_at'])
    .where('invite.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.accepted_at !== null || row.revoked_at !== null || row.expires_at.getTime() <= now.getTime()) return err('invalid');

  const hasAccount = (await findAccountForSignIn(db, row.email)) !== null;
  return ok({ id: row.id, organizationId: row.organization_id, organizationName: row.name, email: row.email, role: row.role, hasAccount });
}

export type AcceptInviteError = 'invalid' | 'wrong_password' | 'already_member' | 'email_taken';

/**
 * Accepts an invitation. A new address gets an account with `name` and `password`; an address
 * that has an account proves it with its password and gains the membership. The invitation is
 * claimed with one conditional update, so a link used twice at once joins once.
 */
export async function acceptMemberInvite(
  db: Kysely<DB>,
  token: string,
  credentials: { name: string | null; password: string },
  now = new Date(),
): Promise<Result<User, AcceptInviteError>> {
  const opened = await readMemberInvite(db, token, now);
  if (!opened.ok) return opened;
  const invite = opened.value;

  const existing = await findAccountForSignIn(db, invite.email);
  if (existing && !(await verifyPassword(credentials.password, existing.passwordHash))) return err('wrong_password');
  const newPasswordHash = existing ? null : await hashPassword(credentials.password);

  try {
    return await db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('member_invites')
        .set({ accepted_at: now })
        .where('id', '=', invite.id)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!claimed) return err('invalid' as const);

      const account = existing?.account ?? (await insertAccount(trx, { email: invite.email, name: credentials.name ?? invite.email, passwordHash: newPasswordHash ?? '' }));
      const isMember = await trx
        .selectFrom('memberships')
        .select('user_id')
        .where('organization_id', '=', invite.organizationId)
        .where('user_id', '=', account.id)
        .executeTakeFirst();
      if (isMember) return err('already_member' as const);

      await insertMembership(trx, { organizationId: invite.organizationId, userId: account.id, role: invite.role }, now);
      await trx.updateTable('member_invites').set({ accepted_by_user_id: account.id }).where('id', '=', invite.id).execute();
      return ok({ ...account, organizationId: invite.organizationId, role: invite.role });
    });
  } catch (error) {
    // Another invitation created an account for the same address at the same moment.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return err('email_taken');
    throw error;
  }
}
