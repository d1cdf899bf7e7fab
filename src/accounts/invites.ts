import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { generateToken, hashToken } from './tokens.ts';

/** How long an invite link works. */
export const INVITE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface PagerDutyInvite {
  id: string;
  organizationId: string;
  organizationName: string;
  inviterName: string | null;
  inviterEmail: string | null;
  email: string;
  note: string | null;
  expiresAt: Date;
  usedAt: Date | null;
  outcomeMessage: string | null;
  createdAt: Date;
}

/** Creates an invite and returns the link token; only its hash is stored. */
export async function createPagerDutyInvite(
  db: Kysely<DB>,
  invite: { organizationId: string; inviterUserId: string; email: string; note: string | null },
  now = new Date(),
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = generateToken();
  const expiresAt = new Date(now.getTime() + INVITE_LIFETIME_MS);
  const row = await db
    .insertInto('pagerduty_invites')
    .values({
      organization_id: invite.organizationId,
      inviter_user_id: invite.inviterUserId,
      email: invite.email,
      note: invite.note,
      token_hash: hashToken(token),
      expires_at: expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token, expiresAt };
}

function selectInvites(db: Kysely<DB>) {
  return db
    .selectFrom('pagerduty_invites as invite')
    .innerJoin('organizations as organization', 'organization.id', 'invite.organization_id')
    .leftJoin('users as inviter', 'inviter.id', 'invite.inviter_user_id')
    .select([
      'invite.id',
      'invite.organization_id',
      'organization.name as organization_name',
      'inviter.name as inviter_name',
      'inviter.email as inviter_email',
      'invite.email',
      'invite.note',
      'invite.expires_at',
      'invite.used_at',
      'invite.outcome_message',
      'invite.created_at',
    ]);
}

type InviteRow = Awaited<ReturnType<ReturnType<typeof selectInvites>['executeTakeFirstOrThrow']>>;

function toInvite(row: InviteRow): PagerDutyInvite {
  return {
    id: row.id,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    inviterName: row.inviter_name,
    inviterEmail: row.inviter_email,
    email: row.email,
    note: row.note,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    outcomeMessage: row.outcome_message,
    createdAt: row.created_at,
  };
}

/** Finds the invite of a link token while it can still be used: unexpired and unused. */
export async function findUsableInvite(
  db: Kysely<DB>,
  token: string,
  now = new Date(),
): Promise<Result<PagerDutyInvite, 'unknown' | 'expired' | 'used'>> {
  const row = await selectInvites(db).where('invite.token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row) return err('unknown');
  if (row.used_at !== null) return err('used');
  if (row.expires_at.getTime() <= now.getTime()) return err('expired');
  return ok(toInvite(row));
}

export async function findInviteById(db: Kysely<DB>, organizationId: string, inviteId: string): Promise<PagerDutyInvite | null> {
  const row = await selectInvites(db).where('invite.organization_id', '=', organizationId).where('invite.id', '=', inviteId).executeTakeFirst();
  return row ? toInvite(row) : null;
}

export async function listPagerDutyInvites(db: Kysely<DB>, organizationId: string, limit: number): Promise<PagerDutyInvite[]> {
  const rows = await selectInvites(db).where('invite.organization_id', '=', organizationId).orderBy('invite.created_at', 'desc').limit(limit).execute();
  return rows.map(toInvite);
}
