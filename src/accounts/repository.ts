import type { Kysely, Transaction } from 'kysely';
import type { DB, Role } from '../db/schema.ts';

/**
 * A Seatwise user as a member of one organization, with the role held there. It never carries
 * the password hash. A user who belongs to several organizations has one `User` per organization.
 */
export interface User {
  id: string;
  organizationId: string;
  email: string;
  name: string;
  role: Role;
}

/** A Seatwise user account on its own, outside any organization. */
export interface Account {
  id: string;
  email: string;
  name: string;
}

export interface Organization {
  id: string;
  name: string;
  supportEmail: string | null;
}

/** One organization a user belongs to, as the organization menu lists it. */
export interface MembershipSummary {
  organizationId: string;
  organizationName: string;
  role: Role;
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

/** Creates an account and its membership of one organization, in one transaction. */
export async function insertUser(
  db: Executor,
  user: { organizationId: string; email: string; name: string; passwordHash: string; role: Role },
): Promise<User> {
  const insert = async (trx: Executor): Promise<User> => {
    const account = await insertAccount(trx, user);
    await insertMembership(trx, { organizationId: user.organizationId, userId: account.id, role: user.role });
    return { ...account, organizationId: user.organizationId, role: user.role };
  };
  return db.isTransaction ? insert(db) : (db as Kysely<DB>).transaction().execute(insert);
}

export async function insertAccount(db: Executor, account: { email: string; name: string; passwordHash: string }): Promise<Account> {
  const row = await db
    .insertInto('users')
    .values({ email: account.email, name: account.name, password_hash: account.passwordHash })
    .returning(['id', 'email', 'name'])
    .executeTakeFirstOrThrow();
  return { id: row.id, email: row.email, name: row.name };
}

export async function insertMembership(db: Executor, membership: { organizationId: string; userId: string; role: Role }, now = new Date()): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ organization_id: membership.organizationId, user_id: membership.userId, role: membership.role, last_used_at: now })
    .execute();
}

/** Finds an account by email, ignoring case, with the password hash for sign-in. */
export async function findAccountForSignIn(db: Executor, email: string): Promise<{ account: Account; passwordHash: string } | null> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'password_hash'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
  return row ? { account: { id: row.id, email: row.email, name: row.name }, passwordHash: row.password_hash } : null;
}

export async function isEmailTaken(db: Executor, email: string): Promise<boolean> {
  return (await findAccountForSignIn(db, email)) !== null;
}

/** Finds a user as a member of `organizationId`; null when the user does not belong to it. */
export async function findUser(db: Executor, organizationId: string, userId: string): Promise<User | null> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'memberships.organization_id', 'users.email', 'users.name', 'memberships.role'])
    .where('memberships.organization_id', '=', organizationId)
    .where('memberships.user_id', '=', userId)
    .executeTakeFirst();
  return row ? { id: row.id, organizationId: row.organization_id, email: row.email, name: row.name, role: row.role } : null;
}

/** Lists the organizations a user belongs to, by name. */
export async function listMemberships(db: Executor, userId: string): Promise<MembershipSummary[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
    .select(['memberships.organization_id', 'organizations.name', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('organizations.name')
    .orderBy('memberships.organization_id')
    .execute();
  return rows.map((row) => ({ organizationId: row.organization_id, organizationName: row.name, role: row.role }));
}

/** Returns the organization a user last used, or null when the user belongs to none. */
export async function findLastUsedOrganizationId(db: Executor, userId: string): Promise<string | null> {
  const row = await db
    .selectFrom('memberships')
    .select('organization_id')
    .where('user_id', '=', userId)
    .orderBy((eb) => eb.ref('last_used_at'), (ob) => ob.desc().nullsLast())
    .orderBy('created_at')
    .executeTakeFirst();
  return row?.organization_id ?? null;
}

export async function markMembershipUsed(db: Executor, organizationId: string, userId: string, now = new Date()): Promise<void> {
  await db.updateTable('memberships').set({ last_used_at: now }).where('organization_id', '=', organizationId).where('user_id', '=', userId).execute();
}
