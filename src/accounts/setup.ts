import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { countOrganizations, findAccountForSignIn, insertMembership, insertOrganization, insertUser, type Account, type Organization, type User } from './repository.ts';

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

/**
 * Creates another organization with `account` as its owner. Any signed-in user may, and becomes
 * the owner of the new organization while keeping every other membership.
 */
export async function createOrganization(db: Kysely<DB>, input: { name: string; account: Account }): Promise<{ user: User; organization: Organization }> {
  return db.transaction().execute(async (trx) => {
    const organization = await insertOrganization(trx, input.name);
    await insertMembership(trx, { organizationId: organization.id, userId: input.account.id, role: 'owner' });
    return { organization, user: { ...input.account, organizationId: organization.id, role: 'owner' as const } };
  });
}

/** Checks an email and password; unknown emails cost as much time as wrong passwords. */
export async function authenticate(db: Kysely<DB>, email: string, password: string): Promise<Account | null> {
  const found = await findAccountForSignIn(db, email);
  if (!found) {
    await verifyPassword(password, await decoyPasswordHash());
    return null;
  }
  return (await verifyPassword(password, found.passwordHash)) ? found.account : null;
}
