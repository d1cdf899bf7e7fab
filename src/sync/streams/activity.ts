import { z } from 'zod';
import * as map from '../../connectors/pagerduty/mappers.ts';
import { MAX_WINDOW_DAYS } from '../../connectors/pagerduty/provider.ts';
import { auditRecordSchema, incidentSchema, logEntrySchema, notificationSchema, type PdLogEntry } from '../../connectors/pagerduty/schemas.ts';
import { ok } from '../../lib/result.ts';
import { windowCheckpointSchema } from '../checkpoints.ts';
import { upsertRows } from '../upsert.ts';
import { DAY_MS, readWindowed } from '../windows.ts';
import type { StreamContext, StreamDefinition } from './types.ts';

/**
 * How far before its high-water mark an incremental pass starts again. PagerDuty's `since` has
 * second precision and records can become visible a little after their `created_at`; records read
 * twice are absorbed by the upsert by id.
 */
export const INCREMENTAL_OVERLAP_MS = 10 * 60 * 1000;

export const incidentsStream: StreamDefinition = {
  name: 'incidents',
  requiredScope: 'incidents.read',
  async run(context) {
    // `/incidents` filters on `created_at`, so it finds new incidents; changes to older ones come from log entries.
    const result = await readWindowed({
      ...windowedBase(context, 'incidents'),
      path: '/incidents',
      key: 'incidents',
      item: incidentSchema,
      query: { time_zone: 'UTC' },
      maxWindowMs: MAX_WINDOW_DAYS.incidents * DAY_MS,
      timeOf: (incident) => incident.created_at,
      store: async (incidents) => {
        await upsertRows(context.db, 'pd_incidents', ['connection_id', 'id'], incidents.map((incident) => map.incidentRow(context.connectionId, incident, context.now)));
      },
    });
    if (!result.ok) return result;
    return ok({ message: null });
  },
};

export const logEntriesStream: StreamDefinition = {
  name: 'log_entries',
  requiredScope: 'incidents.read',
  // Incidents first, so the refresh below skips incidents this run already wrote.
  dependsOn: ['incidents'],
  async run(context) {
    const before = await context.checkpoints.read('log_entries', windowCheckpointSchema, { highWaterMark: null, pass: null });
    const result = await readWindowed({
      ...windowedBase(context, 'log_entries'),
      path: '/log_entries',
      key: 'log_entries',
      item: logEntrySchema,
      // Later passes embed each entry's incident as it is now, which updates incidents changed after
      // creation. A first pass leaves them out because the incidents stream reads every incident.
      query: { time_zone: 'UTC', include: before.highWaterMark === null ? ['channels'] : ['channels', 'incidents'] },
      maxWindowMs: MAX_WINDOW_DAYS.logEntries * DAY_MS,
      timeOf: (entry) => entry.created_at,
      store: (entries) => storeLogEntries(context, entries),
    });
    if (!result.ok) return result;

    // A first pass reads every incident by creation window; later passes refresh the ones whose log changed.
    if (before.highWaterMark !== null) {
      const refreshed = await refreshChangedIncidents(context, result.value.rangeStart);
      if (!refreshed.ok) return refreshed;
      return ok({ message: refreshed.value > 0 ? `Refreshed ${refreshed.value} incidents changed after creation` : null });
    }
    return ok({ message: null });
  },
};

async function storeLogEntries(context: StreamContext, entries: PdLogEntry[]): Promise<void> {
  await upsertRows(context.db, 'pd_log_entries', ['connection_id', 'id'], entries.map((entry) => map.logEntryRow(context.connectionId, entry)));

  const embedded = entries.flatMap((entry) => {
    const parsed = incidentSchema.safeParse(entry.incident);
    return parsed.success ? [parsed.data] : [];
  });
  await upsertRows(context.db, 'pd_incidents', ['connection_id', 'id'], embedded.map((incident) => map.incidentRow(context.connectionId, incident, context.now)));
}

/**
 * Reads again every incident that has log entries since `since` but was not written in this
 * run, for servers that do not embed incidents in log entries.
 */
async function refreshChangedIncidents(context: StreamContext, since: Date) {
  const stale = await context.db
    .selectFrom('pd_log_entries')
    .leftJoin('pd_incidents', (join) => join.onRef('pd_incidents.connection_id', '=', 'pd_log_entries.connection_id').onRef('pd_incidents.id', '=', 'pd_log_entries.incident_id'))
    .select('pd_log_entries.incident_id')
    .distinct()
    .where('pd_log_entries.connection_id', '=', context.connectionId)
    .where('pd_log_entries.created_at', '>=', since)
    .where('pd_log_entries.incident_id', 'is not', null)
    .where((eb) => eb.or([eb('pd_incidents.synced_at', 'is', null), eb('pd_incidents.synced_at', '<', context.now)]))
    .execute();

  const responseSchema = z.looseObject({ incident: incidentSchema });
  let refreshed = 0;
  const ids = stale.flatMap((row) => (row.incident_id === null ? [] : [row.incident_id]));
  for (let index = 0; index < ids.length; index += context.pageConcurrency) {
    const batch = ids.slice(index, index + context.pageConcurrency);
    const responses = await Promise.all(batch.map((id) => context.client.get(`/incidents/${encodeURIComponent(id)}`, {}, responseSchema)));
    for (const response of responses) {
      if (!response.ok) {
        if (response.error.kind === 'not_found') continue;
        return response;
      }
      await upsertRows(context.db, 'pd_incidents', ['connection_id', 'id'], [map.incidentRow(context.connectionId, response.value.incident, context.now)]);
      refreshed += 1;
    }
    await context.progress.page({ records: batch.length });
  }
  return ok(refreshed);
}

export const notificationsStream: StreamDefinition = {
  name: 'notifications',
  requiredScope: 'users:notifications.read',
  async run(context) {
    const result = await readWindowed({
      ...windowedBase(context, 'notifications'),
      path: '/notifications',
      key: 'notifications',
      item: notificationSchema,
      query: { time_zone: 'UTC' },
      maxWindowMs: MAX_WINDOW_DAYS.notifications * DAY_MS,
      timeOf: (notification) => notification.started_at,
      store: async (notifications) => {
        await upsertRows(context.db, 'pd_notifications', ['connection_id', 'id'], notifications.map((notification) => map.notificationRow(context.connectionId, notification, context.now)));
      },
    });
    if (!result.ok) return result;
    return ok({ message: null });
  },
};

/** Audit records: cursor pages inside windows of at most 31 days, continued from a high-water mark. */
const auditCheckpointSchema = z.object({
  highWaterMark: z.iso.datetime().nullable(),
  pass: z.object({ rangeEnd: z.iso.datetime(), windowStart: z.iso.datetime(), cursor: z.string().nullable() }).nullable(),
});

export const auditRecordsStream: StreamDefinition = {
  name: 'audit_records',
  requiredScope: 'audit_records.read',
  isAdminOnly: true,
  async run(context) {
    const checkpoint = await context.checkpoints.read('audit_records', auditCheckpointSchema, { highWaterMark: null, pass: null });
    const startMs =
      checkpoint.highWaterMark === null ? context.historyStart.getTime() : Math.max(context.historyStart.getTime(), new Date(checkpoint.highWaterMark).getTime() - INCREMENTAL_OVERLAP_MS);
    if (checkpoint.pass !== null) context.progress.continueEarlierAttempt();
    const pass = checkpoint.pass ?? { rangeEnd: context.now.toISOString(), windowStart: new Date(startMs).toISOString(), cursor: null };
    const rangeEndMs = new Date(pass.rangeEnd).getTime();
    const windowMs = (MAX_WINDOW_DAYS.auditRecords - 1) * DAY_MS;
    const itemsSchema = auditRecordSchema;

    let windowStartMs = new Date(pass.windowStart).getTime();
    let cursor = pass.cursor;
    while (windowStartMs < rangeEndMs) {
      const windowEndMs = Math.min(windowStartMs + windowMs, rangeEndMs);
      const query = { since: new Date(windowStartMs).toISOString(), until: new Date(windowEndMs).toISOString() };
      const page = await context.client.getCursorPage('/audit/records', query, 'records', itemsSchema, cursor);
      if (!page.ok) return page;
      await upsertRows(context.db, 'pd_audit_records', ['connection_id', 'id'], page.value.items.map((record) => map.auditRecordRow(context.connectionId, record, context.now)));

      cursor = page.value.nextCursor;
      if (cursor === null) windowStartMs = windowEndMs;
      await context.checkpoints.write('audit_records', {
        highWaterMark: checkpoint.highWaterMark,
        pass: { rangeEnd: pass.rangeEnd, windowStart: new Date(windowStartMs).toISOString(), cursor },
      });
      await context.progress.page({ records: page.value.items.length, windowStart: new Date(windowStartMs), windowEnd: new Date(windowEndMs) });
    }

    await context.checkpoints.write('audit_records', { highWaterMark: pass.rangeEnd, pass: null });
    return ok({ message: null });
  },
};

function windowedBase(context: StreamContext, stream: string) {
  return {
    client: context.client,
    checkpoints: context.checkpoints,
    progress: context.progress,
    stream,
    historyStart: context.historyStart,
    rangeEnd: context.now,
    overlapMs: INCREMENTAL_OVERLAP_MS,
    pageConcurrency: context.pageConcurrency,
  };
}
