import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { daysBefore, type CrunchScope } from './scope.ts';

/** The license streams. When either is unavailable, seats are grouped by role. */
export const LICENSE_STREAMS = ['licenses', 'license_allocations'] as const;

/** PagerDuty base roles that need a Full User license. */
export const FULL_USER_ROLES = ['owner', 'admin', 'user', 'limited_user', 'observer', 'restricted_access'] as const;

/** PagerDuty base roles that a Stakeholder license covers. */
export const STAKEHOLDER_ROLES = ['read_only_user', 'read_only_limited_user'] as const;

/**
 * Replaces the connection's seat summaries. When PagerDuty lets Seatwise read licenses, there is one
 * row per license (basis 'license'). When the newest run of a license stream was unavailable (403,
 * 404 or a plan without the feature), there is one row per role group derived from people's roles
 * (basis 'role') and no license row, so stale license figures never mix with derived ones.
 */
export async function recomputeSeatSummaries(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  await trx.deleteFrom('seat_summaries').where('connection_id', '=', scope.connectionId).execute();

  if (await areLicensesUnavailable(trx, scope.connectionId)) {
    await assignRoleGroupsByRole(trx, scope);
    await insertRoleSeats(trx, scope);
  } else {
    await insertLicenseSeats(trx, scope);
  }
}

/** Returns true when the newest finished run of either license stream ended as unavailable. */
export async function areLicensesUnavailable(trx: Transaction<DB>, connectionId: string): Promise<boolean> {
  const result = await sql<{ is_unavailable: boolean }>`
    select exists (
      select 1 from (
        select distinct on (s.stream) s.stream, s.status
        from sync_run_streams s
        join sync_runs r on r.id = s.sync_run_id
        where r.connection_id = ${connectionId}::uuid
          and s.stream in (${sql.join(LICENSE_STREAMS.map((stream) => sql.lit(stream)))})
          and s.status not in ('pending', 'running')
        order by s.stream, r.created_at desc
      ) latest
      where latest.status = 'unavailable'
    ) as is_unavailable
  `.execute(trx);
  return result.rows[0]?.is_unavailable === true;
}

/** Inserts one row per license. Paid seats are `current_value + allocations_available`, or null without a limit. */
async function insertLicenseSeats(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  // People deleted in PagerDuty hold no seat, even when a stale allocation row still names them.
  await sql`
    insert into seat_summaries (
      connection_id, organization_id, license_id, license_name, role_group, basis,
      paid, allocated, active_30d, active_60d, active_90d, never_active, computed_at
    )
    select
      l.connection_id, ${scope.organizationId}::uuid, l.id, l.name, l.role_group, 'license',
      case when l.allocations_available is null then null else l.current_value + l.allocations_available end,
      ${activityCounts(scope)},
      ${scope.asOf}::timestamptz
    from pd_licenses l
    left join people p on p.connection_id = l.connection_id and p.license_id = l.id and not p.is_deleted
    where l.connection_id = ${scope.connectionId}::uuid
    group by l.connection_id, l.id, l.name, l.role_group, l.current_value, l.allocations_available
  `.execute(trx);
}

/** Sets each person's role group from their PagerDuty role, as no license says it. */
async function assignRoleGroupsByRole(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  await sql`
    update people set
      license_id = null,
      license_name = null,
      role_group = ${roleGroupOf(sql.ref('role'))}
    where connection_id = ${scope.connectionId}::uuid
  `.execute(trx);
}

/**
 * Per role group: people holding such a role and their activity. Paid seats come from the contract
 * lines of that role group and stay null unless every such line states its seat count.
 */
async function insertRoleSeats(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  await sql`
    insert into seat_summaries (
      connection_id, organization_id, license_id, license_name, role_group, basis,
      paid, allocated, active_30d, active_60d, active_90d, never_active, computed_at
    )
    with
    role_groups (role_group, label) as (values ('FullUser', 'Full User'), ('Stakeholder', 'Stakeholder')),
    bought as (
      select cl.role_group, case when count(*) = count(cl.seats) then sum(cl.seats)::int else null end as seats
      from contract_lines cl
      join contracts c on c.id = cl.contract_id
      where c.organization_id = ${scope.organizationId}::uuid and c.provider = 'pagerduty' and cl.role_group is not null
      group by cl.role_group
    )
    select
      ${scope.connectionId}::uuid, ${scope.organizationId}::uuid, 'role:' || g.role_group, g.label || ' (by role)', g.role_group, 'role',
      b.seats,
      ${activityCounts(scope)},
      ${scope.asOf}::timestamptz
    from role_groups g
    left join people p on p.connection_id = ${scope.connectionId}::uuid and p.role_group = g.role_group and not p.is_deleted
    left join bought b on b.role_group = g.role_group
    group by g.role_group, g.label, b.seats
    having count(p.external_id) > 0 or b.seats is not null
  `.execute(trx);
}

/** Allocated people and those active in 30, 60 and 90 days by last seen, and never active, over `people p`. */
function activityCounts(scope: CrunchScope) {
  const active30Start = daysBefore(scope.asOf, 30);
  const active60Start = daysBefore(scope.asOf, 60);
  const active90Start = daysBefore(scope.asOf, 90);
  return sql`
    count(p.external_id)::int,
    (count(p.external_id) filter (where p.last_seen_at >= ${active30Start}::timestamptz))::int,
    (count(p.external_id) filter (where p.last_seen_at >= ${active60Start}::timestamptz))::int,
    (count(p.external_id) filter (where p.last_seen_at >= ${active90Start}::timestamptz))::int,
    (count(p.external_id) filter (where p.last_seen_at is null))::int
  `;
}

/** Maps a PagerDuty base role to its role group; other roles map to null. */
function roleGroupOf(role: ReturnType<typeof sql.ref>) {
  const list = (roles: readonly string[]) => sql.join(roles.map((value) => sql.lit(value)));
  return sql`case
    when ${role} in (${list(FULL_USER_ROLES)}) then 'FullUser'
    when ${role} in (${list(STAKEHOLDER_ROLES)}) then 'Stakeholder'
    else null
  end`;
}
