import { sql } from 'kysely';
import { z } from 'zod';
import { ok } from '../../lib/result.ts';
import { ROSTER_REFRESH_INTERVAL_MS } from './roster.ts';
import type { StreamContext, StreamDefinition } from './types.ts';

/** One entry of `subscribers` in `GET /business_services/{id}/subscribers` (`NotificationSubscriber`). */
const subscriberSchema = z.looseObject({
  subscriber_id: z.string().min(1),
  subscriber_type: z.enum(['user', 'team']),
});

const subscriptionsCheckpointSchema = z.object({ completedAt: z.iso.datetime().nullable() });

/**
 * Stakeholder subscriptions: the users and teams that follow each business service's status
 * updates. It reads the business services the inventory stream stored, one request list per
 * service, and marks subscriptions a complete pass no longer returned as deleted.
 *
 * NOTE: subscribers of single incidents (`/incidents/{id}/status_updates/subscribers`) are not read,
 * because that takes one request per incident of the synced history.
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
        await storeSubscribers(context, service.id, page.items);
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

/** Upserts one page of subscribers; `first_seen_at` keeps the run that first read the subscription. */
async function storeSubscribers(context: StreamContext, businessServiceId: string, subscribers: z.infer<typeof subscriberSchema>[]): Promise<void> {
  const unique = new Map(subscribers.map((subscriber) => [`${subscriber.subscriber_type}:${subscriber.subscriber_id}`, subscriber]));
  if (unique.size === 0) return;
  await context.db
    .insertInto('pd_notification_subscriptions')
    .values(
      [...unique.values()].map((subscriber) => ({
        connection_id: context.connectionId,
        subscribable_type: 'business_service' as const,
        subscribable_id: businessServiceId,
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
