import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { hashToken } from './tokens.ts';

/** Length of one counting window, in milliseconds. */
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;

/** Sign-in attempts allowed per email address within one window. */
export const MAX_ATTEMPTS_PER_EMAIL = 10;

/**
 * Sign-in attempts allowed per client address within one window. Higher than the per-email limit
 * because an office or a proxy puts many people behind one address.
 */
export const MAX_ATTEMPTS_PER_ADDRESS = 100;

export type SignInLimitScope = 'email' | 'address';

export interface SignInRejection {
  /** The limit reached. The email limit is reported when both are. */
  scope: SignInLimitScope;
  /** The end of the window, after which attempts are counted from zero. */
  retryAt: Date;
}

/** The keys one attempt counts against. */
export interface SignInAttemptKeys {
  email: string;
  clientAddress: string;
}

function keyHash(scope: SignInLimitScope, value: string): string {
  return hashToken(`sign-in|${scope}|${value.trim().toLowerCase()}`);
}

/**
 * Counts one attempt against the email and the client address before the password is checked,
 * and rejects it when either count passes its limit in the current window. Counting first, in
 * one upsert per key, keeps the limit exact when processes check the same email concurrently.
 */
export async function reserveSignInAttempt(db: Kysely<DB>, keys: SignInAttemptKeys, now = new Date()): Promise<Result<void, SignInRejection>> {
  const email = await countAttempt(db, 'email', keys.email, now);
  const address = await countAttempt(db, 'address', keys.clientAddress, now);

  if (email.attempts > MAX_ATTEMPTS_PER_EMAIL) return err({ scope: 'email', retryAt: windowEnd(email.windowStartedAt) });
  if (address.attempts > MAX_ATTEMPTS_PER_ADDRESS) return err({ scope: 'address', retryAt: windowEnd(address.windowStartedAt) });
  return ok(undefined);
}

/**
 * Takes back the attempt of a successful sign-in: the email's count starts again from zero and
 * the address's count drops by one, so people signing in correctly never use up the address limit.
 */
export async function recordSuccessfulSignIn(db: Kysely<DB>, keys: SignInAttemptKeys): Promise<void> {
  await clearSignInAttempts(db, keys.email);
  await db
    .updateTable('sign_in_attempts')
    .set((eb) => ({ attempts: sql<number>`greatest(${eb.ref('attempts')} - 1, 0)` }))
    .where('scope', '=', 'address')
    .where('key_hash', '=', keyHash('address', keys.clientAddress))
    .execute();
}

/** Forgets the attempts counted against an email address, after a sign-in or a password reset. */
export async function clearSignInAttempts(db: Kysely<DB>, email: string): Promise<void> {
  await db.deleteFrom('sign_in_attempts').where('scope', '=', 'email').where('key_hash', '=', keyHash('email', email)).execute();
}

/** Deletes counters whose window ended before `now`, because their next attempt restarts at one anyway. */
export async function deleteExpiredSignInAttempts(db: Kysely<DB>, now = new Date()): Promise<number> {
  const result = await db
    .deleteFrom('sign_in_attempts')
    .where('window_started_at', '<=', new Date(now.getTime() - SIGN_IN_WINDOW_MS))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

async function countAttempt(db: Kysely<DB>, scope: SignInLimitScope, value: string, now: Date): Promise<{ attempts: number; windowStartedAt: Date }> {
  const windowOpenedAfter = new Date(now.getTime() - SIGN_IN_WINDOW_MS);
  // Both CASEs read the row as it was before the update, so an expired window restarts at one.
  const row = await db
    .insertInto('sign_in_attempts')
    .values({ scope, key_hash: keyHash(scope, value), attempts: 1, window_started_at: now })
    .onConflict((conflict) =>
      conflict.columns(['scope', 'key_hash']).doUpdateSet({
        attempts: sql<number>`case when sign_in_attempts.window_started_at <= ${windowOpenedAfter} then 1 else sign_in_attempts.attempts + 1 end`,
        window_started_at: sql<Date>`case when sign_in_attempts.window_started_at <= ${windowOpenedAfter} then ${now} else sign_in_attempts.window_started_at end`,
      }),
    )
    .returning(['attempts', 'window_started_at'])
    .executeTakeFirstOrThrow();
  return { attempts: Number(row.attempts), windowStartedAt: new Date(row.window_started_at) };
}

function windowEnd(windowStartedAt: Date): Date {
  return new Date(windowStartedAt.getTime() + SIGN_IN_WINDOW_MS);
}
