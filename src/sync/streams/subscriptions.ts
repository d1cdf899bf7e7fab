import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { ApiError } from '../../connectors/pagerduty/errors.ts';
import { ok, type Result } from '../../lib/result.ts';
import { DAY_MS } from '../windows.ts';
import { ROSTER_REFRESH_INTERVAL_MS } from './roster.ts';
import type { StreamContext, StreamDefinition } from './types.ts';

/** One entry of `subscribers` in `GET /business_services/{id}/subscribers` (`NotificationSubscriber`). */
const subscriberSchema = z.looseObject({
  subscriber_id: z.string().min(1),
  subscriber_type: z.enum(['user', 'team']),
});

/**
 * One entry of `subscribers` in `GET /incidents/{id}/status_updates/subscribers`
 * (`NotificationSubscriberWithContext`). PagerDuty's OpenAPI description documents that the list
 * returns only subscribers added through `POST /incidents/{id}/status_updates/subscribers`, so every
 * entry is a subscription to the incident. `has_indirect_subscription` marks those that also follow
 * it through another object, such as a business service.
 */
const incidentSubscriberSchema = z.looseObject({
  ...subscriberSchema.shape,
  has_indirect_subscription: z.boolean().optional(),
  subscribed_via: z.array(z.looseObject({ id: z.string() })).nullable().optional(),
});

type Subscriber = z.infer<typeof subscriberSchema>;

const subscriptionsCheckpointSchema = z.object({ completedAt: z.iso.datetime().nullable() });

/**
 * Incidents are in the set a run reads subscribers of while open, or when their status last changed
 * within this many days, the crunch's shortest counting window. A subscription carries no time, so
 * the run that reads it dates it. Reading only incidents handled recently keeps that date near the
 * time the stakeholder followed the incident.
 */
export const INCIDENT_SUBSCRIBERS_RECENT_DAYS = 30;

/**
 * Incidents a run reads the subscribers of, at most, newest status change first. Each costs one
 * request: 500 made the first sync of a 250-person account at 480 requests a minute take 148 s
 * instead of 84 s. 100 add about 13 s at that rate, and the hourly runs read the rest of the set.
 */
export const MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN = 100;

const OPEN_INCIDENT_STATUSES = ['triggered', 'acknowledged'];

/**
 * Stakeholder subscriptions to business services: the users and teams that follow each business
 * service's status updates. It reads the business services the inventory stream stored, one
 * request list per service, and marks subscriptions a complete pass no longer returned as deleted.
 * Subscriptions to single incidents come from `incidentSubscriptionsStream`.
 */
export const notificationSubscriptionsStream: StreamDefinition = {
  name: 'notification_subscriptions',
  requiredScope: 'subscribers.read',
  dependsOn: ['feature_inventory'],
  async run(context) {
    const checkpoint = await context.checkpoints.read('notification_subscriptions', subscriptionsCheckpointSchema, { completedAt: null });
    if (context.kind === 'incremental' && checkpoint.completedAt !== null && context.now.getTime() - new Date(checkpoint.completedAt).getTime() < ROSTER_REFRESH_INTERVAL_MS) {
      return ok({ message: `Not due: read in full at ${checkpoint.completedAt}` });
    }

    const services = await context.db
      .selectFrom('pd_feature_resources')
      .select('id')
      .where('connection_id', '=', context.connectionId)
      .where('feature', '=', 'business_services')
      .where('deleted_at', 'is', null)
      .orderBy('id')
      .execute();

    let records = 0;
    for (const service of services) {
      const result = await context.client.listAll(`/business_services/${encodeURIComponent(service.id)}/subscribers`, {}, 'subscribers', subscriberSchema, async (page) => {
        await storeSubscribers(context, 'business_service', service.id, page.items);
        records += page.items.length;
        await context.progress.page({ records: page.items.length, expectedRecords: null });
      });
      // A business service deleted since the inventory was read has no subscribers left to read.
      if (!result.ok && result.error.kind !== 'not_found') return result;
    }

    await context.db
      .updateTable('pd_notification_subscriptions')
      .set({ deleted_at: context.now })
      .where('connection_id', '=', context.connectionId)
      .where('subscribable_type', '=', 'business_service')
      .where('synced_at', '<', context.now)
      .where('deleted_at', 'is', null)
      .execute();
    await context.checkpoints.write('notification_subscriptions', { completedAt: context.now.toISOString() });
    return ok({ message: services.length === 0 ? 'No business services to read subscribers of' : `${records} subscriptions on ${services.length} business services` });
  },
};

/**
 * Stakeholder subscriptions to single incidents. PagerDuty lists them only per incident, one request
 * each, so a run reads a bounded set: incidents open now or whose status changed in the last
 * `INCIDENT_SUBSCRIBERS_RECENT_DAYS`, newest first, at most `MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN`.
 * An incremental run leaves out incidents already read whose status has not changed since. Only the
 * incidents read in the run get their vanished subscriptions marked deleted, so an incident that
 * left the set keeps the subscriptions its last read found.
 *
 * NOTE: an incident is read again only when its status changes, so a stakeholder who follows an
 * incident between two status changes is seen at the next change (at the latest its resolution).
 */
export const incidentSubscriptionsStream: StreamDefinition = {
  name: 'incident_subscriptions',
  requiredScope: 'subscribers.read',
  // Log entries refresh the status of incidents changed after creation, which decides what is read.
  dependsOn: ['incidents', 'log_entries'],
  async run(context) {
    const incidents = await selectIncidentsToRead(context);

    let records = 0;
    for (let index = 0; index < incidents.length; index += context.pageConcurrency) {
      const batch = incidents.slice(index, index + context.pageConcurrency);
      const results = await Promise.all(batch.map((incident) => readIncidentSubscribers(context, incident)));
      let batchRecords = 0;
      for (const result of results) {
        if (!result.ok) return result;
        batchRecords += result.value;
      }
      records += batchRecords;
      await context.progress.page({ records: batchRecords });
    }

    await forgetReadsOutsideSet(context);
    if (incidents.length === 0) return ok({ message: `No incidents open or changed in the last ${INCIDENT_SUBSCRIBERS_RECENT_DAYS} days left to read subscribers of` });
    return ok({ message: `${records} subscriptions on ${incidents.length} incidents` });
  },
};

interface IncidentToRead {
  id: string;
  status: string;
  statusChangedAt: Date;
}

/** Builds the SQL of an incident's last status change, or of its creation when PagerDuty sent none. */
function statusChangedAt(): RawBuilder<Date> {
  return sql<Date>`coalesce(i.last_status_change_at, i.created_at)`;
}

/** Lists the incidents this run reads subscribers of, newest status change first. */
async function selectIncidentsToRead(context: StreamContext): Promise<IncidentToRead[]> {
  const recentSince = new Date(context.now.getTime() - INCIDENT_SUBSCRIBERS_RECENT_DAYS * DAY_MS);
  let query = context.db
    .selectFrom('pd_incidents as i')
    .leftJoin('pd_incident_subscriber_reads as r', (join) => join.onRef('r.connection_id', '=', 'i.connection_id').onRef('r.incident_id', '=', 'i.id'))
    .select(['i.id', 'i.status', statusChangedAt().as('status_changed_at')])
    .where('i.connection_id', '=', context.connectionId)
    .where((eb) => eb.or([eb('i.status', 'in', OPEN_INCIDENT_STATUSES), eb(statusChangedAt(), '>=', recentSince)]));
  if (context.kind === 'incremental') {
    query = query.where((eb) => eb.or([eb('r.incident_id', 'is', null), eb('r.status', '<>', eb.ref('i.status')), eb('r.status_changed_at', '<>', statusChangedAt())]));
  }
  const rows = await query
    .orderBy(statusChangedAt(), 'desc')
    // Byte order, so ties break the same way on every database.
    .orderBy(sql`i.id collate "C"`, 'desc')
    .limit(MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN)
    .execute();
  return rows.map((row) => ({ id: row.id, status: row.status, statusChangedAt: new Date(row.status_changed_at) }));
}

/**
 * Reads and stores one incident's subscribers, marks the ones it no longer returned as deleted and
 * records the read. Returns the number of subscribers read. A 404 means the incident was deleted
 * since the incidents stream read it, so it has no subscribers left, as for a business service.
 */
async function readIncidentSubscribers(context: StreamContext, incident: IncidentToRead): Promise<Result<number, ApiError>> {
  let records = 0;
  const result = await context.client.listAll(`/incidents/${encodeURIComponent(incident.id)}/status_updates/subscribers`, {}, 'subscribers', incidentSubscriberSchema, async (page) => {
    await storeSubscribers(context, 'incident', incident.id, page.items);
    records += page.items.length;
  });
  if (!result.ok && result.error.kind !== 'not_found') return result;

  await context.db
    .updateTable('pd_notification_subscriptions')
    .set({ deleted_at: context.now })
    .where('connection_id', '=', context.connectionId)
    .where('subscribable_type', '=', 'incident')
    .where('subscribable_id', '=', incident.id)
    .where('synced_at', '<', context.now)
    .where('deleted_at', 'is', null)
    .execute();
  await context.db
    .insertInto('pd_incident_subscriber_reads')
    .values({ connection_id: context.connectionId, incident_id: incident.id, status: incident.status, status_changed_at: incident.statusChangedAt, read_at: context.now })
    .onConflict((conflict) =>
      conflict.columns(['connection_id', 'incident_id']).doUpdateSet({ status: incident.status, status_changed_at: incident.statusChangedAt, read_at: context.now }),
    )
    .execute();
  return ok(records);
}

/**
 * Deletes the read records of incidents that left the set. An incident comes back into it only
 * through a status change, which would make it due again anyway.
 */
async function forgetReadsOutsideSet(context: StreamContext): Promise<void> {
  const recentSince = new Date(context.now.getTime() - INCIDENT_SUBSCRIBERS_RECENT_DAYS * DAY_MS);
  await context.db
    .deleteFrom('pd_incident_subscriber_reads as r')
    .where('r.connection_id', '=', context.connectionId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('pd_incidents as i')
            .select('i.id')
            .whereRef('i.connection_id', '=', 'r.connection_id')
            .whereRef('i.id', '=', 'r.incident_id')
            .where((eb) => eb.or([eb('i.status', 'in', OPEN_INCIDENT_STATUSES), eb(statusChangedAt(), '>=', recentSince)])),
        ),
      ),
    )
    .execute();
}

/** Upserts one page of subscribers; `first_seen_at` keeps the run that first read the subscription. */
async function storeSubscribers(context: StreamContext, subscribableType: 'business_service' | 'incident', subscribableId: string, subscribers: Subscriber[]): Promise<void> {
  const unique = new Map(subscribers.map((subscriber) => [`${subscriber.subscriber_type}:${subscriber.subscriber_id}`, subscriber]));
  if (unique.size === 0) return;
  await context.db
    .insertInto('pd_notification_subscriptions')
    .values(
      [...unique.values()].map((subscriber) => ({
        connection_id: context.connectionId,
        subscribable_type: subscribableType,
        subscribable_id: subscribableId,
        subscriber_type: subscriber.subscriber_type,
        subscriber_id: subscriber.subscriber_id,
        first_seen_at: context.now,
        synced_at: context.now,
        deleted_at: null,
      })),
    )
    .onConflict((conflict) =>
      conflict
        .columns(['connection_id', 'subscribable_type', 'subscribable_id', 'subscriber_type', 'subscriber_id'])
        // A subscription that was gone and came back counts from its return.
        .doUpdateSet({
          synced_at: (eb) => eb.ref('excluded.synced_at'),
          first_seen_at: sql`case when pd_notification_subscriptions.deleted_at is null then pd_notification_subscriptions.first_seen_at else excluded.first_seen_at end`,
          deleted_at: null,
        }),
    )
    .execute();
}
