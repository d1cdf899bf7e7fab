import { z } from 'zod';
import * as map from '../../connectors/pagerduty/mappers.ts';
import { MAX_WINDOW_DAYS } from '../../connectors/pagerduty/provider.ts';
import {
  abilitiesResponseSchema,
  escalationPolicySchema,
  licenseAllocationSchema,
  licenseSchema,
  oncallSchema,
  overrideSchema,
  scheduleSchema,
  serviceSchema,
  teamMemberSchema,
  teamSchema,
  userSchema,
} from '../../connectors/pagerduty/schemas.ts';
import type { DB } from '../../db/schema.ts';
import { ok, type Result } from '../../lib/result.ts';
import type { ApiError } from '../../connectors/pagerduty/errors.ts';
import { readFullList, type FullListOutcome } from '../full-list.ts';
import { upsertRows } from '../upsert.ts';
import { DAY_MS } from '../windows.ts';
import type { StreamContext, StreamDefinition, StreamSummary } from './types.ts';

/**
 * Roster streams have no updated-since filter, so full runs (daily, on connect and on "Sync now")
 * re-read them and incremental runs skip them. An incremental run still re-reads a list whose last
 * complete pass is older than this, in case the daily full runs keep failing.
 */
export const ROSTER_REFRESH_INTERVAL_MS = 7 * DAY_MS;

export const usersStream: StreamDefinition = {
  name: 'users',
  requiredScope: 'users.read',
  async run(context) {
    const outcome = await readFullList(context, 'users', {
      path: '/users',
      query: { include: ['contact_methods', 'notification_rules', 'teams'] },
      key: 'users',
      item: userSchema,
      refreshIntervalMs: ROSTER_REFRESH_INTERVAL_MS,
      store: async (users) => {
        const { db, connectionId, now } = context;
        await upsertRows(db, 'pd_users', ['connection_id', 'id'], users.map((user) => map.userRow(connectionId, user, now)));
        await upsertRows(db, 'pd_contact_methods', ['connection_id', 'id'], users.flatMap((user) => map.contactMethodRows(connectionId, user, now)));
        await upsertRows(db, 'pd_notification_rules', ['connection_id', 'id'], users.flatMap((user) => map.notificationRuleRows(connectionId, user, now)));
      },
      afterCompletePass: async (passStartedAt) => {
        const { db, connectionId, now } = context;
        await db
          .updateTable('pd_users')
          .set({ deleted_at: now })
          .where('connection_id', '=', connectionId)
          .where('synced_at', '<', passStartedAt)
          .where('deleted_at', 'is', null)
          .execute();
        await deleteStale(context, 'pd_contact_methods', passStartedAt);
        await deleteStale(context, 'pd_notification_rules', passStartedAt);
      },
    });
    return summarize(outcome);
  },
};

export const licensesStream: StreamDefinition = {
  name: 'licenses',
  requiredScope: 'licenses.read',
  async run(context) {
    const response = await context.client.get('/licenses', {}, z.looseObject({ licenses: z.array(licenseSchema) }));
    if (!response.ok) return response;
    const { db, connectionId, now } = context;
    await upsertRows(db, 'pd_licenses', ['connection_id', 'id'], response.value.licenses.map((license) => map.licenseRow(connectionId, license, now)));
    await context.progress.page({ records: response.value.licenses.length, expectedRecords: response.value.licenses.length });
    return ok({ message: null });
  },
};

export const licenseAllocationsStream: StreamDefinition = {
  name: 'license_allocations',
  requiredScope: 'licenses.read',
  async run(context) {
    const outcome = await readFullList(context, 'license_allocations', {
      path: '/license_allocations',
      query: {},
      key: 'license_allocations',
      item: licenseAllocationSchema,
      refreshIntervalMs: ROSTER_REFRESH_INTERVAL_MS,
      store: async (allocations) => {
        const { db, connectionId, now } = context;
        await upsertRows(db, 'pd_license_allocations', ['connection_id', 'user_id'], allocations.map((allocation) => map.licenseAllocationRow(connectionId, allocation, now)));
      },
      afterCompletePass: (passStartedAt) => deleteStale(context, 'pd_license_allocations', passStartedAt),
    });
    return summarize(outcome);
  },
};

export const abilitiesStream: StreamDefinition = {
  name: 'abilities',
  requiredScope: 'abilities.read',
  async run(context) {
    const response = await context.client.get('/abilities', {}, abilitiesResponseSchema);
    if (!response.ok) return response;
    const { db, connectionId, now } = context;
    await upsertRows(db, 'pd_abilities', ['connection_id', 'ability'], response.value.abilities.map((ability) => ({ connection_id: connectionId, ability, synced_at: now })));
    await deleteStale(context, 'pd_abilities', now);
    await context.progress.page({ records: response.value.abilities.length, expectedRecords: response.value.abilities.length });
    return ok({ message: null });
  },
};

export const teamsStream: StreamDefinition = {
  name: 'teams',
  requiredAbility: 'teams',
  requiredScope: 'teams.read',
  async run(context) {
    const teamIds: string[] = [];
    const outcome = await readFullList(context, 'teams', {
      path: '/teams',
      query: {},
      key: 'teams',
      item: teamSchema,
      refreshIntervalMs: ROSTER_REFRESH_INTERVAL_MS,
      store: async (teams) => {
        teamIds.push(...teams.map((team) => team.id));
        await upsertRows(context.db, 'pd_teams', ['connection_id', 'id'], teams.map((team) => map.teamRow(context.connectionId, team, context.now)));
      },
      afterCompletePass: (passStartedAt) => markDeleted(context, 'pd_teams', passStartedAt),
    });
    if (!outcome.ok || outcome.value.status === 'not_due') return summarize(outcome);

    // NOTE: a run interrupted while reading members resumes with the team list complete, so an
    // incremental run then finds teams not due and the members wait for the next full run.
    // A resumed pass stored some teams before the interruption; read members of every known team.
    const known = await context.db.selectFrom('pd_teams').select('id').where('connection_id', '=', context.connectionId).where('deleted_at', 'is', null).execute();
    const allTeamIds = [...new Set([...teamIds, ...known.map((row) => row.id)])];
    for (const teamId of allTeamIds) {
      const members = await context.client.listAll(`/teams/${encodeURIComponent(teamId)}/members`, {}, 'members', teamMemberSchema, async (page) => {
        await upsertRows(context.db, 'pd_team_members', ['connection_id', 'team_id', 'user_id'], page.items.map((member) => map.teamMemberRow(context.connectionId, teamId, member, context.now)));
        // Members are not teams, so the team total no longer bounds the stream's records.
        await context.progress.page({ records: page.items.length, expectedRecords: null });
      });
      if (!members.ok && members.error.kind !== 'not_found') return members;
    }

    // Every current team's members were read in this run, so older rows are memberships that ended.
    await deleteStale(context, 'pd_team_members', context.now);
    return summarize(outcome);
  },
};

export const escalationPoliciesStream: StreamDefinition = {
  name: 'escalation_policies',
  requiredScope: 'escalation_policies.read',
  async run(context) {
    const outcome = await readFullList(context, 'escalation_policies', {
      path: '/escalation_policies',
      query: {},
      key: 'escalation_policies',
      item: escalationPolicySchema,
      refreshIntervalMs: ROSTER_REFRESH_INTERVAL_MS,
      store: async (policies) => {
        const { db, connectionId, now } = context;
        await upsertRows(db, 'pd_escalation_policies', ['connection_id', 'id'], policies.map((policy) => map.escalationPolicyRow(connectionId, policy, now)));
        await upsertRows(
          db,
          'pd_escalation_targets',
          ['connection_id', 'escalation_policy_id', 'rule_position', 'target_type', 'target_id'],
          policies.flatMap((policy) => map.escalationTargetRows(connectionId, policy, now)),
        );
      },
      afterCompletePass: async (passStartedAt) => {
        await markDeleted(context, 'pd_escalation_policies', passStartedAt);
        await deleteStale(context, 'pd_escalation_targets', passStartedAt);
      },
    });
    return summarize(outcome);
  },
};

export const schedulesStream: StreamDefinition = {
  name: 'schedules',
  requiredScope: 'schedules.read',
  async run(context) {
    const outcome = await readFullList(context, 'schedules', {
      path: '/schedules',
      // Without the layers a schedule lists no members.
      query: { include: ['schedule_layers'] },
      key: 'schedules',
      item: scheduleSchema,
      refreshIntervalMs: ROSTER_REFRESH_INTERVAL_MS,
      store: async (schedules) => {
        const { db, connectionId, now } = context;
        await upsertRows(db, 'pd_schedules', ['connection_id', 'id'], schedules.map((schedule) => map.scheduleRow(connectionId, schedule, now)));
        await upsertRows(db, 'pd_schedule_layers', ['connection_id', 'schedule_id', 'id'], schedules.flatMap((schedule) => map.scheduleLayerRows(connectionId, schedule, now)));
        await upsertRows(
          db,
          'pd_schedule_layer_users',
          ['connection_id', 'schedule_id', 'layer_id', 'position'],
          schedules.flatMap((schedule) => map.scheduleLayerUserRows(connectionId, schedule, now)),
        );
      },
      afterCompletePass: async (passStartedAt) => {
        await markDeleted(context, 'pd_schedules', passStartedAt);
        await deleteStale(context, 'pd_schedule_layers', passStartedAt);
        await deleteStale(context, 'pd_schedule_layer_users', passStartedAt);
      },
    });
    if (!outcome.ok || outcome.value.status === 'not_due') return summarize(outcome);

    const overrides = await readOverrides(context);
    if (!overrides.ok) return overrides;
    return summarize(outcome);
  },
};

/** Reads the overrides of every schedule over the synced history and the next 90 days. */
async function readOverrides(context: StreamContext): Promise<Result<void, ApiError>> {
  const schedules = await context.db.selectFrom('pd_schedules').select('id').where('connection_id', '=', context.connectionId).where('deleted_at', 'is', null).execute();
  const until = new Date(context.now.getTime() + MAX_WINDOW_DAYS.oncallsAhead * DAY_MS);
  const responseSchema = z.looseObject({ overrides: z.array(overrideSchema) });
  for (const schedule of schedules) {
    const response = await context.client.get(
      `/schedules/${encodeURIComponent(schedule.id)}/overrides`,
      { since: context.historyStart.toISOString(), until: until.toISOString() },
      responseSchema,
    );
    if (!response.ok) {
      if (response.error.kind === 'not_found') continue;
      return response;
    }
    await upsertRows(context.db, 'pd_schedule_overrides', ['connection_id', 'id'], response.value.overrides.map((override) => map.overrideRow(context.connectionId, schedule.id, override, context.now)));
    // Overrides are not schedules, so the schedule total no longer bounds the stream's records.
    await context.progress.page({ records: response.value.overrides.length, expectedRecords: null });
  }
  return ok(undefined);
}

/** On-call windows: PagerDuty's documentation gives no maximum for past ranges, so months are read one at a time. */
const ONCALL_WINDOW_MS = 30 * DAY_MS;

export const oncallsStream: StreamDefinition = {
  name: 'oncalls',
  requiredScope: 'oncalls.read',
  async run(context) {
    const checkpoint = await context.checkpoints.read('oncalls', z.object({ completedAt: z.iso.datetime().nullable() }), { completedAt: null });
    if (context.kind === 'incremental' && checkpoint.completedAt !== null && context.now.getTime() - new Date(checkpoint.completedAt).getTime() < ROSTER_REFRESH_INTERVAL_MS) {
      return ok({ message: `Not due: read in full at ${checkpoint.completedAt}` });
    }

    const end = context.now.getTime() + MAX_WINDOW_DAYS.oncallsAhead * DAY_MS;
    for (let start = context.historyStart.getTime(); start < end; start += ONCALL_WINDOW_MS) {
      const query = { since: new Date(start).toISOString(), until: new Date(Math.min(start + ONCALL_WINDOW_MS, end)).toISOString() };
      const result = await context.client.listAll('/oncalls', query, 'oncalls', oncallSchema, async (page) => {
        await upsertRows(context.db, 'pd_oncalls', ['connection_id', 'shift_key'], page.items.map((oncall) => map.oncallRow(context.connectionId, oncall, context.now)));
        await context.progress.page({ records: page.items.length, windowStart: new Date(start), windowEnd: new Date(Math.min(start + ONCALL_WINDOW_MS, end)) });
      });
      if (!result.ok) return result;
    }

    // Future shifts move when schedules change, so shifts this pass did not return are dropped.
    await deleteStale(context, 'pd_oncalls', context.now);
    await context.checkpoints.write('oncalls', { completedAt: context.now.toISOString() });
    return ok({ message: null });
  },
};

export const servicesStream: StreamDefinition = {
  name: 'services',
  requiredScope: 'services.read',
  async run(context) {
    const outcome = await readFullList(context, 'services', {
      path: '/services',
      query: { include: ['integrations'] },
      key: 'services',
      item: serviceSchema,
      refreshIntervalMs: ROSTER_REFRESH_INTERVAL_MS,
      store: async (services) => {
        const { db, connectionId, now } = context;
        await upsertRows(db, 'pd_services', ['connection_id', 'id'], services.map((service) => map.serviceRow(connectionId, service, now)));
        await upsertRows(db, 'pd_service_integrations', ['connection_id', 'id'], services.flatMap((service) => map.serviceIntegrationRows(connectionId, service, now)));
      },
      afterCompletePass: async (passStartedAt) => {
        await markDeleted(context, 'pd_services', passStartedAt);
        await deleteStale(context, 'pd_service_integrations', passStartedAt);
      },
    });
    return summarize(outcome);
  },
};

type SoftDeletedTable = 'pd_teams' | 'pd_escalation_policies' | 'pd_schedules' | 'pd_services' | 'pd_users';
type ReplacedTable =
  | 'pd_contact_methods'
  | 'pd_notification_rules'
  | 'pd_license_allocations'
  | 'pd_abilities'
  | 'pd_team_members'
  | 'pd_escalation_targets'
  | 'pd_schedule_layers'
  | 'pd_schedule_layer_users'
  | 'pd_service_integrations'
  | 'pd_oncalls';

/** Marks records a complete pass no longer returned as deleted, keeping them for history. */
async function markDeleted(context: StreamContext, table: SoftDeletedTable, passStartedAt: Date): Promise<void> {
  await context.db
    .updateTable(table as 'pd_teams')
    .set({ deleted_at: context.now })
    .where('connection_id', '=', context.connectionId)
    .where('synced_at', '<', passStartedAt)
    .where('deleted_at', 'is', null)
    .execute();
}

/** Deletes child rows a complete pass no longer returned; their parent rows carry the history. */
async function deleteStale(context: StreamContext, table: ReplacedTable, passStartedAt: Date): Promise<void> {
  await context.db
    .deleteFrom(table as keyof DB as 'pd_abilities')
    .where('connection_id', '=', context.connectionId)
    .where('synced_at', '<', passStartedAt)
    .execute();
}

function summarize(outcome: Result<FullListOutcome, ApiError>): Result<StreamSummary, ApiError> {
  if (!outcome.ok) return outcome;
  switch (outcome.value.status) {
    // The list was read in full in this run.
    case 'read':
      return ok({ message: null });
    // A recent complete pass is still fresh; nothing was requested.
    case 'not_due':
      return ok({ message: `Not due: read in full at ${outcome.value.completedAt.toISOString()}` });
    default: {
      const unreachable: never = outcome.value;
      throw new Error(`Unknown list outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

export { summarize as summarizeFullList };
