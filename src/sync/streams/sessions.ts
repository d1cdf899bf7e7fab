import { z } from 'zod';
import type { CursorPage } from '../../connectors/pagerduty/client.ts';
import type { ApiError } from '../../connectors/pagerduty/errors.ts';
import * as map from '../../connectors/pagerduty/mappers.ts';
import { MAX_ANALYTICS_PAGE_SIZE } from '../../connectors/pagerduty/provider.ts';
import { analyticsPageSchema, oauthDelegationSchema } from '../../connectors/pagerduty/schemas.ts';
import { ok, type Result } from '../../lib/result.ts';
import { upsertRows } from '../upsert.ts';
import { DAY_MS } from '../windows.ts';
import { ROSTER_REFRESH_INTERVAL_MS } from './roster.ts';
import type { StreamDefinition } from './types.ts';

/** Delegations cost one request per person, so every run, full or incremental, reads them at most weekly. */
export const DELEGATIONS_REFRESH_INTERVAL_MS = 7 * DAY_MS;

const dueCheckpointSchema = z.object({ completedAt: z.iso.datetime().nullable() });

export const analyticsUsersStream: StreamDefinition = {
  name: 'analytics_users',
  requiredScope: 'analytics.read',
  async run(context) {
    const checkpoint = await context.checkpoints.read('analytics_users', dueCheckpointSchema, { completedAt: null });
    if (context.kind === 'incremental' && checkpoint.completedAt !== null && context.now.getTime() - new Date(checkpoint.completedAt).getTime() < ROSTER_REFRESH_INTERVAL_MS) {
      return ok({ message: `Not due: read in full at ${checkpoint.completedAt}` });
    }

    let startingAfter: string | null = null;
    for (;;) {
      const body: Record<string, unknown> = { limit: MAX_ANALYTICS_PAGE_SIZE, ...(startingAfter === null ? {} : { starting_after: startingAfter }) };
      const page = await context.client.post('/analytics/raw/users', body, analyticsPageSchema);
      if (!page.ok) return page;
      await upsertRows(context.db, 'pd_analytics_users', ['connection_id', 'user_id'], page.value.data.map((row) => map.analyticsUserRow(context.connectionId, row, context.now)));
      await context.progress.page({ records: page.value.data.length });
      if (page.value.more !== true || !page.value.last) break;
      startingAfter = page.value.last;
    }

    await context.checkpoints.write('analytics_users', { completedAt: context.now.toISOString() });
    return ok({ message: 'PagerDuty refreshes these figures about once a day' });
  },
};

/** The people not yet read in the current pass, so a killed run resumes after the last one stored. */
const delegationsCheckpointSchema = z.object({
  completedAt: z.iso.datetime().nullable(),
  pass: z.object({ startedAt: z.iso.datetime(), afterUserId: z.string().nullable() }).nullable(),
});

export const oauthDelegationsStream: StreamDefinition = {
  name: 'oauth_delegations',
  requiredScope: 'oauth_delegations.read',
  dependsOn: ['users'],
  async run(context) {
    const checkpoint = await context.checkpoints.read('oauth_delegations', delegationsCheckpointSchema, { completedAt: null, pass: null });
    if (
      checkpoint.pass === null &&
      checkpoint.completedAt !== null &&
      context.now.getTime() - new Date(checkpoint.completedAt).getTime() < DELEGATIONS_REFRESH_INTERVAL_MS
    ) {
      return ok({ message: `Not due: read in full at ${checkpoint.completedAt}` });
    }

    if (checkpoint.pass !== null) context.progress.continueEarlierAttempt();
    const pass = checkpoint.pass ?? { startedAt: context.now.toISOString(), afterUserId: null };
    let query = context.db.selectFrom('pd_users').select('id').where('connection_id', '=', context.connectionId).where('deleted_at', 'is', null).orderBy('id');
    if (pass.afterUserId !== null) query = query.where('id', '>', pass.afterUserId);
    const userIds = (await query.execute()).map((row) => row.id);

    // One request per person: a batch of people at a time keeps several requests in flight.
    for (let index = 0; index < userIds.length; index += context.pageConcurrency) {
      const batch = userIds.slice(index, index + context.pageConcurrency);
      const results = await Promise.all(batch.map((userId) => readDelegationsOf(context, userId)));
      for (const result of results) if (!result.ok) return result;
      const records = results.reduce((sum, result) => sum + (result.ok ? result.value : 0), 0);
      await context.checkpoints.write('oauth_delegations', { completedAt: checkpoint.completedAt, pass: { startedAt: pass.startedAt, afterUserId: batch.at(-1) ?? null } });
      await context.progress.page({ records, expectedRecords: null });
    }

    await context.checkpoints.write('oauth_delegations', { completedAt: context.now.toISOString(), pass: null });
    return ok({ message: null });
  },
};

async function readDelegationsOf(context: Parameters<StreamDefinition['run']>[0], userId: string) {
  let cursor: string | null = null;
  let records = 0;
  for (;;) {
    const page: Result<CursorPage<z.infer<typeof oauthDelegationSchema>>, ApiError> = await context.client.getCursorPage(
      `/users/${encodeURIComponent(userId)}/oauth_delegations`,
      { delegation_type: 'web,mobile', status: 'issued,revoked' },
      'oauth_delegations',
      oauthDelegationSchema,
      cursor,
    );
    if (!page.ok) {
      // A person deleted since the roster was read has no delegations to read.
      if (page.error.kind === 'not_found') return ok(records);
      return page;
    }
    await upsertRows(context.db, 'pd_oauth_delegations', ['connection_id', 'id'], page.value.items.map((delegation) => map.oauthDelegationRow(context.connectionId, userId, delegation, context.now)));
    records += page.value.items.length;
    if (page.value.nextCursor === null) return ok(records);
    cursor = page.value.nextCursor;
  }
}
