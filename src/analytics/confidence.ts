import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { PAGERDUTY_FEATURES } from './pagerduty-features.ts';
import { daysBefore, type CrunchScope } from './scope.ts';

/** A sync older than this makes every signal stale; the scheduler syncs at least daily. */
export const STALE_SYNC_MS = 48 * 3_600_000;

/** Each signal the dashboard reports on, and the sync stream that reads it. */
export const SIGNAL_STREAMS = {
  licenses: 'licenses',
  incident_action: 'log_entries',
  sign_in: 'analytics_users',
  mobile_app: 'oauth_delegations',
  on_call_shift: 'oncalls',
  configuration_change: 'audit_records',
  notifications: 'notifications',
  teams: 'teams',
  escalation_policies: 'escalation_policies',
  schedules: 'schedules',
  incidents: 'incidents',
} as const;

export type Signal = keyof typeof SIGNAL_STREAMS;

/**
 * Recomputes `signal_availability`: a signal is unavailable when the capability probe found its
 * stream unreadable (plan, permission, scope), when the newest run of its stream failed or was
 * unavailable, or when it was never synced. A signal stays available but carries a reason when the
 * last sync is older than `STALE_SYNC_MS`.
 */
export async function recomputeSignalAvailability(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const capabilities = await trx
    .selectFrom('pd_capabilities')
    .select('unavailable_streams')
    .where('connection_id', '=', scope.connectionId)
    .executeTakeFirst();
  const unavailableStreams = asStringRecord(capabilities?.unavailable_streams);

  const latestStreams = await sql<{ stream: string; status: string; message: string | null }>`
    select distinct on (s.stream) s.stream, s.status, s.message
    from sync_run_streams s
    join sync_runs r on r.id = s.sync_run_id
    where r.connection_id = ${scope.connectionId}::uuid and s.status not in ('pending', 'running')
    order by s.stream, r.created_at desc
  `.execute(trx);
  const latestByStream = new Map(latestStreams.rows.map((row) => [row.stream, row]));

  const connection = await trx.selectFrom('connections').select('last_sync_at').where('id', '=', scope.connectionId).executeTakeFirstOrThrow();
  const lastSyncAt = connection.last_sync_at === null ? null : new Date(connection.last_sync_at);
  const isStale = lastSyncAt !== null && scope.asOf.getTime() - lastSyncAt.getTime() > STALE_SYNC_MS;

  const rows = Object.entries(SIGNAL_STREAMS).map(([signal, stream]) => {
    const probeReason = unavailableStreams[stream];
    const latest = latestByStream.get(stream);
    let status: 'available' | 'unavailable' = 'available';
    let reason: string | null = null;
    if (probeReason !== undefined) {
      status = 'unavailable';
      reason = probeReason;
    } else if (latest === undefined) {
      status = 'unavailable';
      reason = `The ${stream} stream has not been synced yet.`;
    } else if (latest.status === 'unavailable' || latest.status === 'failed') {
      status = 'unavailable';
      reason = latest.message ?? `The last sync of the ${stream} stream ${latest.status === 'failed' ? 'failed' : 'was unavailable'}.`;
    } else if (isStale && lastSyncAt !== null) {
      reason = `Stale: the last sync finished at ${lastSyncAt.toISOString()}.`;
    }
    return { connection_id: scope.connectionId, organization_id: scope.organizationId, signal, status, reason, computed_at: scope.asOf };
  });

  await trx.deleteFrom('signal_availability').where('connection_id', '=', scope.connectionId).execute();
  await trx.insertInto('signal_availability').values(rows).execute();
}

/**
 * Recomputes `account_features`. For each account feature of the catalogue it stores whether the
 * account inventory could be read and how many resources are configured. It also stores how often
 * the feature was exercised in the last 90 days, or null where no synced record shows use.
 */
export async function recomputeAccountFeatures(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const start90 = daysBefore(scope.asOf, 90);
  const inventory = await trx
    .selectFrom('pd_feature_inventory')
    .select(['feature', 'status', 'reason', 'resource_count'])
    .where('connection_id', '=', scope.connectionId)
    .execute();
  const inventoryByFeature = new Map<string, (typeof inventory)[number]>(inventory.map((row) => [row.feature, row]));

  const resources = await trx
    .selectFrom('pd_feature_resources')
    .select(['feature', (eb) => eb.fn.countAll<number>().as('count')])
    .where('connection_id', '=', scope.connectionId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('is_enabled', 'is', null), eb('is_enabled', '=', true)]))
    .groupBy('feature')
    .execute();
  const resourceCounts = new Map<string, number>(resources.map((row) => [row.feature, Number(row.count)]));

  const exercised = await countExercisedAccountFeatures(trx, scope, start90);

  // Once the inventory stream has run, a feature without a row is one the stream has no list to read for.
  const unreadReason = inventory.length === 0 ? 'The account inventory has not been synced yet.' : 'Seatwise does not read whether this feature is set up in PagerDuty.';
  const rows = PAGERDUTY_FEATURES.filter((feature) => feature.scope === 'account' && feature.inventoryFeature !== undefined).map((feature) => {
    const inventoryFeature = feature.inventoryFeature ?? feature.key;
    const row = inventoryByFeature.get(inventoryFeature);
    let status: 'available' | 'unavailable' | 'unknown' = 'unknown';
    if (row !== undefined) status = row.status === 'available' ? 'available' : 'unavailable';
    return {
      connection_id: scope.connectionId,
      organization_id: scope.organizationId,
      feature_key: feature.key,
      status,
      reason: row === undefined ? unreadReason : row.reason,
      configured_count: row === undefined || status === 'unavailable' ? null : (resourceCounts.get(inventoryFeature) ?? row.resource_count),
      exercised_count_90d: exercised.get(inventoryFeature) ?? null,
      computed_at: scope.asOf,
    };
  });

  await trx.deleteFrom('account_features').where('connection_id', '=', scope.connectionId).execute();
  if (rows.length > 0) await trx.insertInto('account_features').values(rows).execute();
}

/**
 * Counts uses of the account features that synced records show: incidents with a priority and
 * custom field changes. Other account features have no use signal in the REST API.
 */
async function countExercisedAccountFeatures(trx: Transaction<DB>, scope: CrunchScope, since: Date): Promise<Map<string, number>> {
  const priorities = await trx
    .selectFrom('pd_incidents')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('connection_id', '=', scope.connectionId)
    .where('priority_id', 'is not', null)
    .where('created_at', '>=', since)
    .where('created_at', '<=', scope.asOf)
    .executeTakeFirstOrThrow();
  const customFields = await trx
    .selectFrom('pd_log_entries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('connection_id', '=', scope.connectionId)
    .where('type', 'in', ['field_value_change_log_entry', 'custom_field_value_change_log_entry'])
    .where('created_at', '>=', since)
    .where('created_at', '<=', scope.asOf)
    .executeTakeFirstOrThrow();
  return new Map([
    ['priorities', Number(priorities.count)],
    ['custom_fields', Number(customFields.count)],
  ]);
}

function asStringRecord(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') result[key] = entry;
  }
  return result;
}
