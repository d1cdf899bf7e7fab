import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { findOrganization, findUser, markMembershipUsed, type Organization, type User } from './repository.ts';
import { deriveToken, generateToken, hashToken } from './tokens.ts';

/** How long a session lasts after sign-in. */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

const CSRF_PURPOSE = 'seatwise csrf token';

export interface NewSession {
  /** The cookie value; only its hash is stored. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface ActiveSession {
  tokenHash: string;
  csrfToken: string;
  expiresAt: Date;
  user: User;
  organization: Organization;
}

/**
 * Derives the CSRF token of a session from the session token, so the browser can only
 * learn it from a same-origin API response, and the database stores only its hash.
 */
export function csrfTokenOf(sessionToken: string): string {
  return deriveToken(sessionToken, CSRF_PURPOSE);
}

export async function createSession(db: Kysely<DB>, user: User, now = new Date()): Promise<NewSession> {
  const token = generateToken();
  const csrfToken = csrfTokenOf(token);
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  await db
    .insertInto('sessions')
    .values({
      token_hash: hashToken(token),
      user_id: user.id,
      organization_id: user.organizationId,
      csrf_token: hashToken(csrfToken),
      expires_at: expiresAt,
    })
    .execute();
  return { token, csrfToken, expiresAt };
}

/**
 * Looks up the session of a cookie value. Unknown and expired sessions return null, and so does a
 * session whose user no longer belongs to its organization.
 */
export async function findActiveSession(db: Kysely<DB>, token: string, now = new Date()): Promise<ActiveSession | null> {
  const tokenHash = hashToken(token);
  const row = await db
    .selectFrom('sessions')
    .select(['user_id', 'organization_id', 'expires_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return null;
  if (row.expires_at.getTime() <= now.getTime()) {
    await deleteSessionByHash(db, tokenHash);
    return null;
  }

  const user = await findUser(db, row.organization_id, row.user_id);
  const organization = await findOrganization(db, row.organization_id);
  if (!user || !organization) return null;
  return { tokenHash, csrfToken: csrfTokenOf(token), expiresAt: row.expires_at, user, organization };
}

/**
 * Moves a session to another organization of its user. Returns false, changing nothing, when the
 * user is not a member of it; the foreign key to memberships enforces the same.
 */
export async function switchSessionOrganization(db: Kysely<DB>, session: ActiveSession, organizationId: string, now = new Date()): Promise<boolean> {
  const user = await findUser(db, organizationId, session.user.id);
  if (!user) return false;
  await db.updateTable('sessions').set({ organization_id: organizationId }).where('token_hash', '=', session.tokenHash).execute();
  await markMembershipUsed(db, organizationId, session.user.id, now);
  return true;
}

export async function deleteSessionByHash(db: Kysely<DB>, tokenHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}
