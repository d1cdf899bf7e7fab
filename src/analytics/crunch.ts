import { sql, type Kysely, type Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';

const DAY_MS = 86_400_000;

/** Last seen looks back this far: a sync fetches the last 90 days of log entries. */
export const LAST_SEEN_LOOKBACK_DAYS = 90;

/** The signal that set a person's last seen; log entries are the only source so far. */
export type LastSeenSignal = 'incident_action';

const connectionIdSchema = z.uuid({ message: 'connectionId must be a UUID' });

interface CrunchScope {
  connectionId: string;
  organizationId: string;
  asOf: Date;
}

/**
 * Recomputes `people` and `seat_summaries` of one connection from its raw PagerDuty tables, in one
 * transaction, so the dashboard sees either the previous figures or the new ones.
 *
 * Definitions (docs/architecture.md): last seen is the newest log entry whose agent is the person
 * (`agent_type = 'user_reference'`) created within `LAST_SEEN_LOOKBACK_DAYS` before `asOf`, paid seats
 * are `current_value + allocations_available` (null without a limit), and a person is active in
 * N days when their last seen is at or after `asOf − N days`.
 */
export async function crunchConnection(db: Kysely<DB>, connectionId: string, asOf: Date = new Date()): Promise<void> {
  const parsedId = connectionIdSchema.safeParse(connectionId);
  if (!parsedId.success) {
    throw new Error(`Cannot crunch connection ${JSON.stringify(connectionId)}: connectionId must be a UUID.`);
  }
  if (Number.isNaN(asOf.getTime())) {
    throw new Error(`Cannot crunch connection ${connectionId}: asOf is an invalid date.`);
  }

  await db.transaction().execute(async (trx) => {
    const connection = await trx
      .selectFrom('connections')
      .select(['id', 'organization_id'])
      .where('id', '=', connectionId)
      .executeTakeFirst();
    if (connection === undefined) {
      throw new Error(`Cannot crunch connection ${connectionId}: no such connection. Sync an existing connection.`);
    }
    const scope: CrunchScope = { connectionId, organizationId: connection.organization_id, asOf };

    await recomputePeople(trx, scope);
    await recomputeSeatSummaries(trx, scope);
  });
}

/** Returns the instant `days` whole days of 24 hours before `asOf`; all windows are in UTC. */
export function daysBefore(asOf: Date, days: number): Date {
  return new Date(asOf.getTime() - days * DAY_MS);
}

/**
 * Replaces the connection's people with one row per synced PagerDuty user. A person invited but
 * never signed up has a pending invitation and never acted as an agent in the synced history.
 */
async function recomputePeople(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const lookbackStart = daysBefore(scope.asOf, LAST_SEEN_LOOKBACK_DAYS);

  await trx.deleteFrom('people').where('connection_id', '=', scope.connectionId).execute();

  await sql`
    insert into people (
      connection_id, organization_id, external_id, name, email, role,
      license_id, license_name, role_group,
      last_seen_at, last_seen_signal, last_seen_detail,
      is_deleted, is_invited_never_signed_up, computed_at
    )
    select
      u.connection_id, ${scope.organizationId}::uuid, u.id, u.name, u.email, u.role,
      l.id, l.name, l.role_group,
      seen.created_at,
      case when seen.created_at is null then null else 'incident_action' end,
      seen.detail,
      u.deleted_at is not null,
      u.invitation_sent and not exists (
        select 1 from pd_log_entries any_action
        where any_action.connection_id = u.connection_id
          and any_action.agent_id = u.id
          and any_action.agent_type = 'user_reference'
      ),
      ${scope.asOf}::timestamptz
    from pd_users u
    left join pd_license_allocations a on a.connection_id = u.connection_id and a.user_id = u.id
    left join pd_licenses l on l.connection_id = a.connection_id and l.id = a.license_id
    left join lateral (
      select
        e.created_at,
        regexp_replace(e.type, '_log_entry$', '') || coalesce(' via ' || e.channel_type, '') as detail
      from pd_log_entries e
      where e.connection_id = u.connection_id
        and e.agent_id = u.id
        and e.agent_type = 'user_reference'
        and e.created_at >= ${lookbackStart}::timestamptz
        and e.created_at <= ${scope.asOf}::timestamptz
      order by e.created_at desc, e.id desc
      limit 1
    ) seen on true
    where u.connection_id = ${scope.connectionId}::uuid
  `.execute(trx);
}

/**
 * Replaces the connection's seat summaries with one row per license. People deleted in PagerDuty
 * hold no seat, even when a stale allocation row still names them.
 */
async function recomputeSeatSummaries(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const active30Start = daysBefore(scope.asOf, 30);
  const active90Start = daysBefore(scope.asOf, 90);

  await trx.deleteFrom('seat_summaries').where('connection_id', '=', scope.connectionId).execute();

  await sql`
    insert into seat_summaries (
      connection_id, organization_id, license_id, license_name, role_group,
      paid, allocated, active_30d, active_90d, never_active, computed_at
    )
    select
      l.connection_id, ${scope.organizationId}::uuid, l.id, l.name, l.role_group,
      case when l.allocations_available is null then null else l.current_value + l.allocations_available end,
      count(p.external_id)::int,
      (count(p.external_id) filter (where p.last_seen_at >= ${active30Start}::timestamptz))::int,
      (count(p.external_id) filter (where p.last_seen_at >= ${active90Start}::timestamptz))::int,
      (count(p.external_id) filter (where p.last_seen_at is null))::int,
      ${scope.asOf}::timestamptz
    from pd_licenses l
    left join people p on p.connection_id = l.connection_id and p.license_id = l.id and not p.is_deleted
    where l.connection_id = ${scope.connectionId}::uuid
    group by l.connection_id, l.id, l.name, l.role_group, l.current_value, l.allocations_available
  `.execute(trx);
}
