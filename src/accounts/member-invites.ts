import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB, Role } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { hashPassword } from './passwords.ts';
import { insertUser, isEmailTaken, type User } from './repository.ts';
import { safeEqual } from './tokens.ts';

/** PostgreSQL's SQLSTATE for a unique constraint violation. */
const UNIQUE_VIOLATION = '23505';

/** How long a link to join an organization works. */
export const MEMBER_INVITE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

const payloadSchema = z.object({
  organizationId: z.uuid(),
  inviterUserId: z.uuid(),
  email: z.email(),
  role: z.enum(['admin', 'member', 'viewer']),
  expiresAtMs: z.number().int(),
});

type MemberInvitePayload = z.infer<typeof payloadSchema>;

/**
 * Join links are signed, not stored. The key is the inviter's current password hash, so a link
 * stops working when the inviter changes their password, and it works once because the invited
 * email address is taken as soon as the account exists. Format: `base64url(payload).signature`.
 */
function sign(inviterPasswordHash: string, encodedPayload: string): string {
  return createHmac('sha256', inviterPasswordHash).update(`member-invite|${encodedPayload}`).digest('base64url');
}

export async function createMemberInviteToken(
  db: Kysely<DB>,
  invite: { organizationId: string; inviterUserId: string; email: string; role: Exclude<Role, 'owner'> },
  now = new Date(),
): Promise<string> {
  const inviter = await db
    .selectFrom('users')
    .select('password_hash')
    .where('id', '=', invite.inviterUserId)
    .where('organization_id', '=', invite.organizationId)
    .executeTakeFirstOrThrow();
  const payload: MemberInvitePayload = { ...invite, email: invite.email.toLowerCase(), expiresAtMs: now.getTime() + MEMBER_INVITE_LIFETIME_MS };
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${encoded}.${sign(inviter.password_hash, encoded)}`;
}

/** Reads a join link: its organization, email and role, when the signature and expiry hold. */
export async function readMemberInvite(db: Kysely<DB>, token: string, now = new Date()): Promise<Result<MemberInvitePayload & { organizationName: string }, 'invalid'>> {
  const [encoded, signature] = token.split('.');
  if (!encoded || !signature) return err('invalid');
  let payload: MemberInvitePayload;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')));
    if (!parsed.success) return err('invalid');
    payload = parsed.data;
  } catch {
    return err('invalid');
  }
  if (payload.expiresAtMs <= now.getTime()) return err('invalid');

  const inviter = await db
    .selectFrom('users')
    .innerJoin('organizations', 'organizations.id', 'users.organization_id')
    .select(['users.password_hash', 'organizations.name'])
    .where('users.id', '=', payload.inviterUserId)
    .where('users.organization_id', '=', payload.organizationId)
    .executeTakeFirst();
  if (!inviter || !safeEqual(signature, sign(inviter.password_hash, encoded))) return err('invalid');
  return ok({ ...payload, organizationName: inviter.name });
}

/** Creates the invited account; fails when the link is invalid or the address already has an account. */
export async function acceptMemberInvite(
  db: Kysely<DB>,
  token: string,
  account: { name: string; password: string },
): Promise<Result<User, 'invalid' | 'email_taken'>> {
  const invite = await readMemberInvite(db, token);
  if (!invite.ok) return invite;
  if (await isEmailTaken(db, invite.value.email)) return err('email_taken');
  try {
    const user = await insertUser(db, {
      organizationId: invite.value.organizationId,
      email: invite.value.email,
      name: account.name,
      passwordHash: await hashPassword(account.password),
      role: invite.value.role,
    });
    return ok(user);
  } catch (error) {
    // A concurrent use of the same link lost the race on the unique email index.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return err('email_taken');
    throw error;
  }
}
