import type { Kysely, Transaction } from 'kysely';
import type { DB, Role } from '../db/schema.ts';

/** A Seatwise user as the rest of the code reads it, never with the password hash. */
export interface User {
  id: string;
  organizationId: string;
  email: string;
  name: string;
  role: Role;
}

export interface Organization {
  id: string;
  name: string;
  supportEmail: string | null;
}

type Executor = Kysely<DB> | Transaction<DB>;

export async function countOrganizations(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('organizations')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function insertOrganization(db: Executor, name: string): Promise<Organization> {
  const row = await db.insertInto('organizations').values({ name }).returning(['id', 'name', 'support_email']).executeTakeFirstOrThrow();
  return { id: row.id, name: row.name, supportEmail: row.support_email };
}

export async function findOrganization(db: Executor, organizationId: string): Promise<Organization | null> {
  const row = await db
    .selectFrom('organizations')
    .select(['id', 'name', 'support_email'])
    .where('id', '=', organizationId)
    .executeTakeFirst();
  return row ? { id: row.id, name: row.name, supportEmail: row.support_email } : null;
}

export async function insertUser(
  db: Executor,
  user: { organizationId: string; email: string; name: string; passwordHash: string; role: Role },
): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      organization_id: user.organizationId,
      email: user.email,
      name: user.name,
      password_hash: user.passwordHash,
      role: user.role,
    })
    .returning(['id', 'organization_id', 'email', 'name', 'role'])
    .executeTakeFirstOrThrow();
  return toUser(row);
}

/** Finds a user by email, ignoring case, with the password hash for sign-in. */
export async function findUserForSignIn(db: Executor, email: string): Promise<{ user: User; passwordHash: string } | null> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'organization_id', 'email', 'name', 'role', 'password_hash'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
  return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
}

export async function isEmailTaken(db: Executor, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
  return row !== undefined;
}

export async function findUser(db: Executor, organizationId: string, userId: string): Promise<User | null> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'organization_id', 'email', 'name', 'role'])
    .where('organization_id', '=', organizationId)
    .where('id', '=', userId)
    .executeTakeFirst();
  return row ? toUser(row) : null;
}

function toUser(row: { id: string; organization_id: string; email: string; name: string; role: Role }): User {
  return { id: row.id, organizationId: row.organization_id, email: row.email, name: row.name, role: row.role };
}
