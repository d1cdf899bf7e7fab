import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { hashPassword } from './passwords.ts';
import { findLastUsedOrganizationId } from './repository.ts';
import { safeEqual } from './tokens.ts';

/** How long a password-reset link works. */
export const PASSWORD_RESET_LIFETIME_MS = 60 * 60 * 1000;

/**
 * Reset links are signed, not stored: the signing key is the user's current password hash, so
 * a link stops working once the password changes (single use) and a database without the hash
 * cannot be used to mint one. Format: `userId.expiresAtSeconds.signature`.
 */
function sign(passwordHash: string, userId: string, expiresAtSeconds: number): string {
  return createHmac('sha256', passwordHash).update(`password-reset|${userId}|${expiresAtSeconds}`).digest('base64url');
}

/** Creates a reset token for the user with this email, or null when no user has it. */
export async function createPasswordResetToken(
  db: Kysely<DB>,
  email: string,
  now = new Date(),
): Promise<{ token: string; user: { id: string; name: string; email: string; organizationId: string | null } } | null> {
  const user = await db
    .selectFrom('users')
    .select(['id', 'name', 'email', 'password_hash'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
  if (!user) return null;
  const expiresAtSeconds = Math.floor((now.getTime() + PASSWORD_RESET_LIFETIME_MS) / 1000);
  return {
    token: `${user.id}.${expiresAtSeconds}.${sign(user.password_hash, user.id, expiresAtSeconds)}`,
    // The mail and the audit entry belong to the organization the user last used, if any.
    user: { id: user.id, name: user.name, email: user.email, organizationId: await findLastUsedOrganizationId(db, user.id) },
  };
}

/** Sets a new password when the token is valid, and ends every session of that user. */
export async function resetPassword(db: Kysely<DB>, token: string, newPassword: string, now = new Date()): Promise<Result<{ userId: string; email: string }, 'invalid'>> {
  const [userId, expiresText, signature] = token.split('.');
  const expiresAtSeconds = Number(expiresText);
  if (!userId || !signature || !Number.isSafeInteger(expiresAtSeconds) || expiresAtSeconds * 1000 <= now.getTime()) return err('invalid');
  if (!/^[0-9a-f-]{36}$/.test(userId)) return err('invalid');

  const user = await db.selectFrom('users').select(['id', 'email', 'password_hash']).where('id', '=', userId).executeTakeFirst();
  if (!user || !safeEqual(signature, sign(user.password_hash, user.id, expiresAtSeconds))) return err('invalid');

  const passwordHash = await hashPassword(newPassword);
  const updated = await db.transaction().execute(async (trx) => {
    // Only while the hash is still the one the link was signed with, so two uses cannot both pass.
    const result = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', user.id)
      .where('password_hash', '=', user.password_hash)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    return true;
  });
  return updated ? ok({ userId: user.id, email: user.email }) : err('invalid');
}
