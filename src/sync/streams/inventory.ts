import { z } from 'zod';
import type { CursorPage } from '../../connectors/pagerduty/client.ts';
import type { ApiError } from '../../connectors/pagerduty/errors.ts';
import * as map from '../../connectors/pagerduty/mappers.ts';
import { describeApiError } from '../../connectors/pagerduty/errors.ts';
import { featureResourceSchema } from '../../connectors/pagerduty/schemas.ts';
import type { InventoryFeature } from '../../db/schema.ts';
import { ok, type Result } from '../../lib/result.ts';
import { upsertRows } from '../upsert.ts';
import { ROSTER_REFRESH_INTERVAL_MS } from './roster.ts';
import type { StreamContext, StreamDefinition } from './types.ts';

interface FeatureSource {
  feature: InventoryFeature;
  /** The feature's name as PagerDuty's web app shows it, for messages on the Connections card. */
  label: string;
  path: string;
  key: string;
  paging: 'offset' | 'cursor';
}

/** Account-level features and the list that shows whether each is configured. */
const FEATURE_SOURCES: FeatureSource[] = [
  { feature: 'status_pages', label: 'Status pages', path: '/status_pages', key: 'status_pages', paging: 'offset' },
  { feature: 'incident_workflows', label: 'Incident workflows', path: '/incident_workflows', key: 'incident_workflows', paging: 'offset' },
  { feature: 'business_services', label: 'Business services', path: '/business_services', key: 'business_services', paging: 'offset' },
  { feature: 'event_orchestrations', label: 'Event orchestrations', path: '/event_orchestrations', key: 'orchestrations', paging: 'offset' },
  { feature: 'extensions', label: 'Extensions', path: '/extensions', key: 'extensions', paging: 'offset' },
  { feature: 'addons', label: 'Add-ons', path: '/addons', key: 'addons', paging: 'offset' },
  { feature: 'automation_actions', label: 'Automation actions', path: '/automation_actions/actions', key: 'actions', paging: 'cursor' },
  { feature: 'priorities', label: 'Priorities', path: '/priorities', key: 'priorities', paging: 'offset' },
];

/**
 * Reads each inventory feature on its own: a feature the plan or token cannot read is recorded as
 * unavailable with the reason, and the others still complete.
 */
export const featureInventoryStream: StreamDefinition = {
  name: 'feature_inventory',
  requiredScope: 'services.read',
  async run(context) {
    const checkpoint = await context.checkpoints.read('feature_inventory', z.object({ completedAt: z.iso.datetime().nullable() }), { completedAt: null });
    if (context.kind === 'incremental' && checkpoint.completedAt !== null && context.now.getTime() - new Date(checkpoint.completedAt).getTime() < ROSTER_REFRESH_INTERVAL_MS) {
      return ok({ message: `Not due: read in full at ${checkpoint.completedAt}` });
    }

    const unavailable: string[] = [];
    for (const source of FEATURE_SOURCES) {
      const result = await readFeature(context, source);
      if (result.ok) {
        await recordInventory(context, source.feature, 'available', null, result.value);
        await context.db
          .updateTable('pd_feature_resources')
          .set({ deleted_at: context.now })
          .where('connection_id', '=', context.connectionId)
          .where('feature', '=', source.feature)
          .where('synced_at', '<', context.now)
          .where('deleted_at', 'is', null)
          .execute();
        continue;
      }
      const kind = result.error.kind;
      if (kind === 'plan_gated' || kind === 'forbidden' || kind === 'not_found') {
        let reason = 'the account has no such list';
        if (kind === 'plan_gated') reason = 'not on the account plan';
        if (kind === 'forbidden') reason = 'the connection may not read it';
        await recordInventory(context, source.feature, 'unavailable', `${reason} (${describeApiError(result.error)})`, 0);
        unavailable.push(`${source.label} (${reason})`);
        continue;
      }
      return result;
    }
    await context.checkpoints.write('feature_inventory', { completedAt: context.now.toISOString() });
    return ok({ message: unavailable.length > 0 ? `Not readable: ${unavailable.join('; ')}.` : null });
  },
};

async function readFeature(context: StreamContext, source: FeatureSource) {
  let count = 0;
  const store = async (items: { id: string }[]) => {
    const rows = items.map((item) => map.featureResourceRow(context.connectionId, source.feature, featureResourceSchema.parse(item), context.now));
    await upsertRows(context.db, 'pd_feature_resources', ['connection_id', 'feature', 'id'], rows);
    count += items.length;
    await context.progress.page({ records: items.length });
  };

  if (source.paging === 'offset') {
    const result = await context.client.listAll(source.path, {}, source.key, featureResourceSchema, (page) => store(page.items));
    return result.ok ? ok(count) : result;
  }

  let cursor: string | null = null;
  for (;;) {
    const page: Result<CursorPage<z.infer<typeof featureResourceSchema>>, ApiError> = await context.client.getCursorPage(source.path, {}, source.key, featureResourceSchema, cursor);
    if (!page.ok) return page;
    await store(page.value.items);
    if (page.value.nextCursor === null) return ok(count);
    cursor = page.value.nextCursor;
  }
}

async function recordInventory(context: StreamContext, feature: InventoryFeature, status: 'available' | 'unavailable', reason: string | null, count: number): Promise<void> {
  await upsertRows(context.db, 'pd_feature_inventory', ['connection_id', 'feature'], [
    { connection_id: context.connectionId, feature, status, reason, resource_count: count, checked_at: context.now },
  ]);
}
