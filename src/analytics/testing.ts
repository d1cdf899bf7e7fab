import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Builders of raw PagerDuty rows for analytics tests; every row belongs to one connection. */

export async function createTenant(db: Kysely<DB>, name: string, subdomain = name.toLowerCase()): Promise<{ organizationId: string; connectionId: string }> {
  const organization = await db.insertInto('organizations').values({ name }).returning('id').executeTakeFirstOrThrow();
  const connection = await db
    .insertInto('connections')
    .values({
      organization_id: organization.id,
      provider: 'pagerduty',
      method: 'api_key',
      status: 'connected',
      subdomain,
      region: 'us',
      api_base_url: 'http://127.0.0.1:9/',
      last_sync_at: new Date('2026-06-01T00:00:00Z'),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { organizationId: organization.id, connectionId: connection.id };
}

export interface UserSeed {
  id: string;
  name?: string;
  email?: string;
  role?: string;
  invitationSent?: boolean;
  deletedAt?: Date;
  licenseId?: string;
}

export async function insertUsers(db: Kysely<DB>, connectionId: string, users: UserSeed[]): Promise<void> {
  if (users.length === 0) return;
  await db
    .insertInto('pd_users')
    .values(
      users.map((user) => ({
        connection_id: connectionId,
        id: user.id,
        name: user.name ?? `Person ${user.id}`,
        email: user.email ?? `${user.id.toLowerCase()}@example.com`,
        role: user.role ?? 'user',
        invitation_sent: user.invitationSent ?? false,
        raw: JSON.stringify({ id: user.id }),
        deleted_at: user.deletedAt ?? null,
      })),
    )
    .execute();
  const allocations = users.filter((user) => user.licenseId !== undefined);
  if (allocations.length === 0) return;
  await db
    .insertInto('pd_license_allocations')
    .values(allocations.map((user) => ({ connection_id: connectionId, user_id: user.id, license_id: user.licenseId ?? '' })))
    .execute();
}

export interface LicenseSeed {
  id: string;
  name: string;
  roleGroup: 'FullUser' | 'Stakeholder';
  currentValue: number;
  allocationsAvailable: number | null;
}

export async function insertLicenses(db: Kysely<DB>, connectionId: string, licenses: LicenseSeed[]): Promise<void> {
  await db
    .insertInto('pd_licenses')
    .values(
      licenses.map((license) => ({
        connection_id: connectionId,
        id: license.id,
        name: license.name,
        role_group: license.roleGroup,
        current_value: license.currentValue,
        allocations_available: license.allocationsAvailable,
        valid_roles: '[]',
        raw: JSON.stringify({ id: license.id }),
      })),
    )
    .execute();
}

export interface LogEntrySeed {
  id: string;
  type: string;
  createdAt: Date;
  agentType?: string | null;
  agentId?: string | null;
  channelType?: string | null;
  userId?: string | null;
  incidentId?: string | null;
}

export async function insertLogEntries(db: Kysely<DB>, connectionId: string, entries: LogEntrySeed[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('pd_log_entries')
    .values(
      entries.map((entry) => ({
        connection_id: connectionId,
        id: entry.id,
        type: entry.type,
        created_at: entry.createdAt,
        agent_type: entry.agentType === undefined ? 'user_reference' : entry.agentType,
        agent_id: entry.agentId ?? null,
        channel_type: entry.channelType ?? null,
        user_id: entry.userId ?? null,
        incident_id: entry.incidentId ?? 'PINC',
      })),
    )
    .execute();
}
