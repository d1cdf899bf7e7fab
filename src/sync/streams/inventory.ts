import { z } from 'zod';
import type { CursorPage } from '../../connectors/pagerduty/client.ts';
import type { ApiError } from '../../connectors/pagerduty/errors.ts';
import * as map from '../../connectors/pagerduty/mappers.ts';
import { describeApiError } from '../../connectors/pagerduty/errors.ts';
import { featureResourceSchema, incidentTypeCustomFieldsResponseSchema, incidentTypesResponseSchema } from '../../connectors/pagerduty/schemas.ts';
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
  /** `incident_types`: the list at `path` names incident types, each with its own list of custom fields. */
  paging: 'offset' | 'cursor' | 'incident_types';
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
  { feature: 'custom_fields', label: 'Custom fields', path: '/incidents/types', key: 'incident_types', paging: 'incident_types' },
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

  if (source.paging === 'incident_types') return readCustomFields(context, source, store);
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

/**
 * Reads the custom fields of every enabled incident type (PagerDuty lists only enabled types unless
 * asked otherwise). A field that two types list is stored once, as enabled if either lists it enabled.
 */
async function readCustomFields(
  context: StreamContext,
  source: FeatureSource,
  store: (items: z.infer<typeof featureResourceSchema>[]) => Promise<void>,
): Promise<Result<number, ApiError>> {
  const types = await context.client.get(source.path, {}, incidentTypesResponseSchema);
  if (!types.ok) return types;
  await context.progress.page({ records: 0 });

  const fields = new Map<string, z.infer<typeof featureResourceSchema>>();
  for (const incidentType of types.value.incident_types) {
    const listed = await context.client.get(`${source.path}/${encodeURIComponent(incidentType.id)}/custom_fields`, {}, incidentTypeCustomFieldsResponseSchema);
    if (!listed.ok) return listed;
    const typeFields = listed.value.fields.map((field) => ({
      id: field.id,
      name: field.display_name ?? field.name ?? null,
      created_at: field.created_at ?? null,
      is_enabled: field.enabled !== false || fields.get(field.id)?.is_enabled === true,
    }));
    for (const field of typeFields) fields.set(field.id, field);
    // One stored page per request, so the run's page count matches its requests.
    await store(typeFields);
  }
  return ok(fields.size);
}

async function recordInventory(context: StreamContext, feature: InventoryFeature, status: 'available' | 'unavailable', reason: string | null, count: number): Promise<void> {
  await upsertRows(context.db, 'pd_feature_inventory', ['connection_id', 'feature'], [
    { connection_id: context.connectionId, feature, status, reason, resource_count: count, checked_at: context.now },
  ]);
}
