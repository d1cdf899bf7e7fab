import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import {
  clearSignInAttempts,
  deleteExpiredSignInAttempts,
  MAX_ATTEMPTS_PER_ADDRESS,
  MAX_ATTEMPTS_PER_EMAIL,
  recordSuccessfulSignIn,
  reserveSignInAttempt,
  SIGN_IN_WINDOW_MS,
} from './sign-in-limit.ts';

describe.each(testDatabaseTargets())('sign-in attempt limit on $name', ({ open }) => {
  let database: Database;
  const start = new Date('2026-03-02T10:00:00Z');

  beforeAll(async () => {
    database = await open();
    await migrate(database);
  });
  afterAll(async () => {
    await database.close();
  });

  it('email limit rejects the next attempt', async () => {
    const keys = { email: 'limit@acme.test', clientAddress: '192.0.2.1' };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_PER_EMAIL; attempt += 1) {
      expect((await reserveSignInAttempt(database.db, keys, start)).ok, `attempt ${attempt}`).toBe(true);
    }
    const rejected = await reserveSignInAttempt(database.db, { ...keys, email: 'LIMIT@acme.test ' }, new Date(start.getTime() + 60_000));
    expect(rejected.ok).toBe(false);
    if (rejected.ok) return;
    expect(rejected.error.scope).toBe('email');
    expect(rejected.error.retryAt.toISOString()).toBe(new Date(start.getTime() + SIGN_IN_WINDOW_MS).toISOString());

    const otherEmail = await reserveSignInAttempt(database.db, { ...keys, email: 'other@acme.test' }, start);
    expect(otherEmail.ok).toBe(true);
  });

  it('window end restarts the count', async () => {
    const keys = { email: 'window@acme.test', clientAddress: '192.0.2.2' };
    for (let attempt = 0; attempt <= MAX_ATTEMPTS_PER_EMAIL; attempt += 1) await reserveSignInAttempt(database.db, keys, start);
    expect((await reserveSignInAttempt(database.db, keys, new Date(start.getTime() + SIGN_IN_WINDOW_MS - 1))).ok).toBe(false);
    expect((await reserveSignInAttempt(database.db, keys, new Date(start.getTime() + SIGN_IN_WINDOW_MS))).ok).toBe(true);
  });

  it('clearing the email lifts its limit', async () => {
    const keys = { email: 'cleared@acme.test', clientAddress: '192.0.2.3' };
    for (let attempt = 0; attempt <= MAX_ATTEMPTS_PER_EMAIL; attempt += 1) await reserveSignInAttempt(database.db, keys, start);
    expect((await reserveSignInAttempt(database.db, keys, start)).ok).toBe(false);
    await clearSignInAttempts(database.db, 'Cleared@acme.test');
    expect((await reserveSignInAttempt(database.db, keys, start)).ok).toBe(true);
  });

  it('address limit spans emails', async () => {
    const clientAddress = '192.0.2.4';
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_ADDRESS; attempt += 1) {
      expect((await reserveSignInAttempt(database.db, { email: `person${attempt}@acme.test`, clientAddress }, start)).ok).toBe(true);
    }
    const rejected = await reserveSignInAttempt(database.db, { email: 'fresh@acme.test', clientAddress }, start);
    expect(rejected.ok ? null : rejected.error.scope).toBe('address');
    expect((await reserveSignInAttempt(database.db, { email: 'fresh@acme.test', clientAddress: '192.0.2.5' }, start)).ok).toBe(true);
  });

  it('success takes the attempt back', async () => {
    const clientAddress = '192.0.2.6';
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_ADDRESS * 2; attempt += 1) {
      const keys = { email: 'busy@acme.test', clientAddress };
      expect((await reserveSignInAttempt(database.db, keys, start)).ok, `sign-in ${attempt}`).toBe(true);
      await recordSuccessfulSignIn(database.db, keys);
    }
  });

  it('concurrent attempts never pass the limit', async () => {
    const keys = { email: 'race@acme.test', clientAddress: '192.0.2.7' };
    const results = await Promise.all(Array.from({ length: MAX_ATTEMPTS_PER_EMAIL * 3 }, () => reserveSignInAttempt(database.db, keys, start)));
    expect(results.filter((result) => result.ok).length).toBe(MAX_ATTEMPTS_PER_EMAIL);
  });

  it('expired counters are deleted', async () => {
    const later = new Date(start.getTime() + SIGN_IN_WINDOW_MS * 2);
    await reserveSignInAttempt(database.db, { email: 'recent@acme.test', clientAddress: '192.0.2.8' }, later);
    expect(await deleteExpiredSignInAttempts(database.db, later)).toBeGreaterThan(0);
    const left = await database.db.selectFrom('sign_in_attempts').select('window_started_at').execute();
    expect(left.length).toBe(2);
    for (const row of left) expect(new Date(row.window_started_at).getTime()).toBe(later.getTime());
  });
});
