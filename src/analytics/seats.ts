import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { daysBefore, type CrunchScope } from './scope.ts';

/**
 * Replaces the connection's seat summaries with one row per license: paid seats
 * (`current_value + allocations_available`, null without a limit), allocated seats, people active
 * in 30, 60 and 90 days by last seen, and people never active. People deleted in PagerDuty hold no
 * seat, even when a stale allocation row still names them.
 */
export async function recomputeSeatSummaries(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const active30Start = daysBefore(scope.asOf, 30);
  const active60Start = daysBefore(scope.asOf, 60);
  const active90Start = daysBefore(scope.asOf, 90);

  await trx.deleteFrom('seat_summaries').where('connection_id', '=', scope.connectionId).execute();

  await sql`
    insert into seat_summaries (
      connection_id, organization_id, license_id, license_name, role_group,
      paid, allocated, active_30d, active_60d, active_90d, never_active, computed_at
    )
    select
      l.connection_id, ${scope.organizationId}::uuid, l.id, l.name, l.role_group,
      case when l.allocations_available is null then null else l.current_value + l.allocations_available end,
      count(p.external_id)::int,
      (count(p.external_id) filter (where p.last_seen_at >= ${active30Start}::timestamptz))::int,
      (count(p.external_id) filter (where p.last_seen_at >= ${active60Start}::timestamptz))::int,
      (count(p.external_id) filter (where p.last_seen_at >= ${active90Start}::timestamptz))::int,
      (count(p.external_id) filter (where p.last_seen_at is null))::int,
      ${scope.asOf}::timestamptz
    from pd_licenses l
    left join people p on p.connection_id = l.connection_id and p.license_id = l.id and not p.is_deleted
    where l.connection_id = ${scope.connectionId}::uuid
    group by l.connection_id, l.id, l.name, l.role_group, l.current_value, l.allocations_available
  `.execute(trx);
}
