import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { countOrganizations, findUserForSignIn, insertOrganization, insertUser, type Organization, type User } from './repository.ts';

export interface FirstOwnerInput {
  organizationName: string;
  name: string;
  email: string;
  password: string;
}

export async function isSetupRequired(db: Kysely<DB>): Promise<boolean> {
  return (await countOrganizations(db)) === 0;
}

/**
 * Creates the first organization and its owner. Fails with `already_set_up` once any
 * organization exists; a table lock makes two concurrent setups create only one.
 */
export async function setUpFirstOrganization(
  db: Kysely<DB>,
  input: FirstOwnerInput,
): Promise<Result<{ user: User; organization: Organization }, 'already_set_up'>> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction().execute(async (trx) => {
    await sql`lock table organizations in share row exclusive mode`.execute(trx);
    if ((await countOrganizations(trx)) > 0) return err('already_set_up' as const);

    const organization = await insertOrganization(trx, input.organizationName);
    const user = await insertUser(trx, {
      organizationId: organization.id,
      email: input.email,
      name: input.name,
      passwordHash,
      role: 'owner',
    });
    return ok({ user, organization });
  });
}

/** Checks an email and password; unknown emails cost as much time as wrong passwords. */
export async function authenticate(db: Kysely<DB>, email: string, password: string): Promise<User | null> {
  const found = await findUserForSignIn(db, email);
  if (!found) {
    await verifyPassword(password, await decoyPasswordHash());
    return null;
  }
  return (await verifyPassword(password, found.passwordHash)) ? found.user : null;
}
