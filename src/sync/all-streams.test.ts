import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator, type SimAccount } from '../../simulator/index.ts';
import { incidentSubscribers } from '../../simulator/incident-subscribers.ts';
import { onCallEntries } from '../../simulator/oncall.ts';
import { listIncidentsReadForSubscribers } from '../../simulator/usage-truth.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { runSync } from './run-sync.ts';
import { STREAM_NAMES } from './streams/catalogue.ts';
import { INCIDENT_SUBSCRIBERS_RECENT_DAYS, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN } from './streams/subscriptions.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from './testing.ts';

/**
 * A full sync of every stream stores exactly what the simulator generated, record by record and
 * field by field for the fields Seatwise keeps in columns. The expected rows are built from the
 * generated account, not from the simulator's responses, so a field the sync drops or
 * misreads fails here.
 */

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;
const HISTORY_DAYS = 90;
const ONCALL_DAYS_AHEAD = 90;

type Row = Record<string, unknown>;

/** Sorts rows by their JSON form, so two lists compare regardless of order. */
function sorted(rows: Row[]): Row[] {
  const keyed = rows.map((row) => ({ row, key: JSON.stringify(row) }));
  keyed.sort((a, b) => a.key.localeCompare(b.key));
  return keyed.map((item) => item.row);
}

function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return new Date(value).toISOString();
}

/** Formats an instant as PagerDuty serves it: RFC 3339 with whole seconds. */
function isoSeconds(value: Date): string {
  return new Date(Math.floor(value.getTime() / 1000) * 1000).toISOString();
}

/** Returns where a notification went: a push has no address, and no method falls back to email. */
function notificationAddress(method: { type: string; address: string } | undefined, email: string | null): string | null {
  if (method === undefined) return email;
  if (method.type === 'push_notification_contact_method') return null;
  return method.address;
}

describe('sync of every stream', () => {
  let simulator: RunningSimulator;
  let database: Database;
  let account: Readonly<SimAccount>;
  let connectionId: string;

  beforeAll(async () => {
    // Enterprise, so every plan-gated list exists; 80 people and 100 days keep the run short.
    simulator = await startSimulator({ people: 80, seed: 17, now: NOW, plan: 'enterprise', rateLimitPerMinute: 600_000 });
    account = simulator.generated;
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);

    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    connectionId = connection.connectionId;
    const syncRunId = await createQueuedRun(database, connection);
    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW }), { connectionId, syncRunId });
    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');
    expect(outcome.streams.map((stream) => stream.name).sort()).toEqual([...STREAM_NAMES].sort());
    for (const stream of outcome.streams) expect(stream.status, `${stream.name}: ${stream.message ?? ''}`).toBe('succeeded');
  }, 300_000);

  afterAll(async () => {
    await simulator?.close();
    await database?.close();
  });

  async function rows(sql: string): Promise<Row[]> {
    const result = await database.query<Row>(sql.replaceAll(':connection', `'${connectionId}'`));
    return result.rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, value instanceof Date ? value.toISOString() : value])));
  }

  it('users, contact methods, rules', async () => {
    expect(await rows(`select id, name, email, role, time_zone, job_title, invitation_sent, deleted_at from pd_users where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.users.map((user) => ({ id: user.id, name: user.name, email: user.email, role: user.role, time_zone: user.timeZone, job_title: user.jobTitle, invitation_sent: user.invitationSent, deleted_at: null }))),
    );
    expect(await rows(`select id, user_id, type, label, address from pd_contact_methods where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.users.flatMap((user) => user.contactMethods.map((method) => ({ id: method.id, user_id: user.id, type: method.type, label: method.label, address: method.address })))),
    );
    expect(await rows(`select id, user_id, urgency, start_delay_in_minutes, contact_method_id, contact_method_type from pd_notification_rules where connection_id = :connection`).then(sorted)).toEqual(
      sorted(
        account.users.flatMap((user) =>
          user.notificationRules.map((rule) => ({
            id: rule.id,
            user_id: user.id,
            urgency: rule.urgency,
            start_delay_in_minutes: rule.startDelayInMinutes,
            contact_method_id: rule.contactMethodId,
            // A rule names its contact method by reference, whose type ends in `_reference`.
            contact_method_type: `${user.contactMethods.find((method) => method.id === rule.contactMethodId)?.type ?? 'unknown'}_reference`,
          })),
        ),
      ),
    );
  });

  it('licenses and allocations', async () => {
    expect(await rows(`select id, name, description, role_group, current_value, allocations_available from pd_licenses where connection_id = :connection`).then(sorted)).toEqual(
      sorted(
        account.licenses.map((license) => ({
          id: license.id,
          name: license.name,
          description: license.description,
          role_group: license.roleGroup,
          current_value: account.users.filter((user) => user.licenseId === license.id).length,
          allocations_available: license.allocationsAvailable,
        })),
      ),
    );
    expect(await rows(`select user_id, license_id, allocated_at from pd_license_allocations where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.users.map((user) => ({ user_id: user.id, license_id: user.licenseId, allocated_at: iso(user.allocatedAt) }))),
    );
  });

  it('abilities', async () => {
    const stored = await rows(`select ability from pd_abilities where connection_id = :connection`);
    expect(stored.map((row) => row.ability).sort()).toEqual([...account.abilities].sort());
  });

  it('teams and members', async () => {
    expect(await rows(`select id, name, description, deleted_at from pd_teams where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.teams.map((team) => ({ id: team.id, name: team.name, description: team.description, deleted_at: null }))),
    );
    const teamRole = (role: string): string => {
      if (role === 'owner' || role === 'admin') return 'manager';
      if (role === 'read_only_user' || role === 'read_only_limited_user' || role === 'observer') return 'observer';
      return 'responder';
    };
    expect(await rows(`select team_id, user_id, role from pd_team_members where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.users.flatMap((user) => user.teamIds.map((teamId) => ({ team_id: teamId, user_id: user.id, role: teamRole(user.role) })))),
    );
  });

  it('escalation policies and targets', async () => {
    expect(await rows(`select id, name, description, num_loops, deleted_at from pd_escalation_policies where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.escalationPolicies.map((policy) => ({ id: policy.id, name: policy.name, description: policy.description, num_loops: policy.numLoops, deleted_at: null }))),
    );
    expect(
      await rows(`select escalation_policy_id, rule_position, rule_id, target_type, target_id, escalation_delay_in_minutes from pd_escalation_targets where connection_id = :connection`).then(sorted),
    ).toEqual(
      sorted(
        account.escalationPolicies.flatMap((policy) =>
          policy.rules.flatMap((rule, position) =>
            rule.targets.map((target) => ({
              escalation_policy_id: policy.id,
              rule_position: position,
              rule_id: rule.id,
              target_type: target.type,
              target_id: target.id,
              escalation_delay_in_minutes: rule.delayMinutes,
            })),
          ),
        ),
      ),
    );
  });

  it('schedules, layers, overrides', async () => {
    expect(await rows(`select id, name, description, time_zone, deleted_at from pd_schedules where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.schedules.map((schedule) => ({ id: schedule.id, name: schedule.name, description: schedule.description, time_zone: schedule.timeZone, deleted_at: null }))),
    );
    expect(await rows(`select schedule_id, id, name, start_at from pd_schedule_layers where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.schedules.map((schedule) => ({ schedule_id: schedule.id, id: schedule.layer.id, name: schedule.layer.name, start_at: iso(schedule.layer.start) }))),
    );
    expect(await rows(`select schedule_id, layer_id, position, user_id from pd_schedule_layer_users where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.schedules.flatMap((schedule) => schedule.layer.userIds.map((userId, position) => ({ schedule_id: schedule.id, layer_id: schedule.layer.id, position, user_id: userId })))),
    );
    // Overrides are read from the start of the synced history to 90 days ahead.
    const sinceMs = NOW.getTime() - HISTORY_DAYS * DAY_MS;
    const untilMs = NOW.getTime() + ONCALL_DAYS_AHEAD * DAY_MS;
    expect(await rows(`select id, schedule_id, user_id, start_at, end_at from pd_schedule_overrides where connection_id = :connection`).then(sorted)).toEqual(
      sorted(
        account.schedules.flatMap((schedule) =>
          schedule.overrides
            .filter((override) => override.end.getTime() > sinceMs && override.start.getTime() < untilMs)
            .map((override) => ({ id: override.id, schedule_id: schedule.id, user_id: override.userId, start_at: iso(override.start), end_at: iso(override.end) })),
        ),
      ),
    );
  });

  it('on-call shifts', async () => {
    const entries = onCallEntries(account as SimAccount, NOW.getTime() - HISTORY_DAYS * DAY_MS, NOW.getTime() + ONCALL_DAYS_AHEAD * DAY_MS);
    const expected = new Map<string, Row>();
    for (const entry of entries) {
      const start = entry.startMs === null ? null : iso(new Date(entry.startMs));
      const row = {
        user_id: entry.userId,
        escalation_policy_id: entry.escalationPolicyId,
        escalation_level: entry.escalationLevel,
        schedule_id: entry.scheduleId,
        start_at: start,
        end_at: entry.endMs === null ? null : iso(new Date(entry.endMs)),
      };
      expected.set([entry.escalationPolicyId, entry.escalationLevel, entry.scheduleId ?? '', entry.userId, start ?? 'permanent'].join('|'), row);
    }
    expect(expected.size).toBeGreaterThan(0);
    expect(await rows(`select user_id, escalation_policy_id, escalation_level, schedule_id, start_at, end_at from pd_oncalls where connection_id = :connection`).then(sorted)).toEqual(
      sorted([...expected.values()]),
    );
  });

  it('services and integrations', async () => {
    expect(await rows(`select id, name, description, escalation_policy_id, created_at, deleted_at from pd_services where connection_id = :connection`).then(sorted)).toEqual(
      sorted(
        account.services.map((service) => ({
          id: service.id,
          name: service.name,
          description: service.description,
          escalation_policy_id: service.escalationPolicyId,
          created_at: iso(service.createdAt),
          deleted_at: null,
        })),
      ),
    );
    expect(await rows(`select id, service_id, name from pd_service_integrations where connection_id = :connection`).then(sorted)).toEqual(
      sorted(account.services.map((service) => ({ id: service.integrationId, service_id: service.id, name: service.integrationName }))),
    );
  });

  it('incidents and log entries', async () => {
    const sinceMs = NOW.getTime() - HISTORY_DAYS * DAY_MS;
    const untilMs = NOW.getTime() + 1;
    const incidents: Row[] = [];
    account.history.scanIncidents(sinceMs, untilMs, 'oldest_first', (incident) => {
      incidents.push({ id: incident.id, incident_number: incident.number, title: incident.title, urgency: incident.urgency, service_id: incident.serviceId, created_at: isoSeconds(incident.createdAt) });
    });
    expect(incidents.length).toBeGreaterThan(100);
    expect(await rows(`select id, incident_number, title, urgency, service_id, created_at from pd_incidents where connection_id = :connection`).then(sorted)).toEqual(sorted(incidents));

    const entries: Row[] = [];
    account.history.scanEntries(sinceMs, untilMs, (entry) => {
      entries.push({
        id: entry.id,
        type: entry.type,
        created_at: isoSeconds(entry.createdAt),
        agent_type: entry.agent.type,
        agent_id: entry.agent.id,
        channel_type: entry.channel.type,
        incident_id: entry.incidentId,
        service_id: entry.serviceId,
        user_id: entry.type === 'notify_log_entry' ? (entry.userId ?? null) : null,
        assignee_ids: entry.type === 'assign_log_entry' && entry.userId !== undefined ? [entry.userId] : null,
      });
    });
    expect(
      await rows(
        `select id, type, created_at, agent_type, agent_id, channel_type, incident_id, service_id, user_id, assignee_ids from pd_log_entries where connection_id = :connection`,
      ).then(sorted),
    ).toEqual(sorted(entries));
  });

  it('notifications', async () => {
    // Notifications of people removed since still name them, as PagerDuty keeps old notifications.
    const users = new Map([...account.users, ...account.deletedUsers].map((user) => [user.id, user]));
    const notifications: Row[] = [];
    account.history.scanEntries(NOW.getTime() - HISTORY_DAYS * DAY_MS, NOW.getTime() + 1, (entry) => {
      if (entry.type !== 'notify_log_entry' || entry.userId === undefined) return;
      const user = users.get(entry.userId);
      const rule = user?.notificationRules[0];
      const method = user?.contactMethods.find((candidate) => candidate.id === rule?.contactMethodId) ?? user?.contactMethods[0];
      const byMethod = {
        sms_contact_method: 'sms_notification',
        phone_contact_method: 'phone_notification',
        push_notification_contact_method: 'push_notification',
        email_contact_method: 'email_notification',
      } as const;
      notifications.push({
        id: `N${entry.id}`,
        type: method === undefined ? 'email_notification' : byMethod[method.type],
        started_at: isoSeconds(entry.createdAt),
        address: notificationAddress(method, user?.email ?? null),
        user_id: entry.userId,
      });
    });
    expect(notifications.length).toBeGreaterThan(100);
    expect(await rows(`select id, type, started_at, address, user_id from pd_notifications where connection_id = :connection`).then(sorted)).toEqual(sorted(notifications));
  });

  it('analytics raw users', async () => {
    const schedulesById = new Map(account.schedules.map((schedule) => [schedule.id, schedule]));
    const expected = account.users.map((user) => {
      const onSchedule = account.schedules.some((schedule) => schedule.layer.userIds.includes(user.id));
      const onPolicy = account.escalationPolicies.some((policy) =>
        policy.rules.some((rule) => rule.targets.some((target) => target.id === user.id || (target.type === 'schedule_reference' && schedulesById.get(target.id)?.layer.userIds.includes(user.id)))),
      );
      return {
        user_id: user.id,
        last_sign_in_at: iso(user.lastSignInAt),
        downloaded_mobile_app: user.hasMobileApp,
        signed_up: !user.invitationSent,
        on_escalation_policy: onPolicy,
        on_schedule: onSchedule,
      };
    });
    expect(
      await rows(`select user_id, last_sign_in_at, downloaded_mobile_app, signed_up, on_escalation_policy, on_schedule from pd_analytics_users where connection_id = :connection`).then(sorted),
    ).toEqual(sorted(expected));
  });

  it('OAuth delegations', async () => {
    // The sync reads web and mobile delegations, issued and revoked.
    const expected = account.users.flatMap((user) =>
      user.sessions
        .filter((session) => session.type === 'web' || session.type === 'mobile')
        .map((session) => ({
          id: session.id,
          user_id: user.id,
          delegation_type: session.type,
          status: session.isRevoked ? 'revoked' : 'issued',
          client_id: session.clientId,
          created_at: iso(session.createdAt),
        })),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(await rows(`select id, user_id, delegation_type, status, client_id, created_at from pd_oauth_delegations where connection_id = :connection`).then(sorted)).toEqual(sorted(expected));
  });

  it('audit records', async () => {
    const rootTypes = { users: 'user_reference', teams: 'team_reference', schedules: 'schedule_reference', escalation_policies: 'escalation_policy_reference', services: 'service_reference' } as const;
    const sinceMs = NOW.getTime() - HISTORY_DAYS * DAY_MS;
    const expected = account.auditRecords
      .filter((record) => record.executionTime.getTime() >= sinceMs && record.executionTime.getTime() < NOW.getTime())
      .map((record) => ({
        id: record.id,
        execution_time: iso(record.executionTime),
        actor_type: 'user_reference',
        actor_id: record.actorUserId,
        method_type: record.methodType,
        root_resource_type: rootTypes[record.rootType],
        root_resource_id: record.rootId,
        action: record.action,
      }));
    expect(expected.length).toBeGreaterThan(0);
    expect(
      await rows(`select id, execution_time, actor_type, actor_id, method_type, root_resource_type, root_resource_id, action from pd_audit_records where connection_id = :connection`).then(sorted),
    ).toEqual(sorted(expected));
  });

  it('account feature inventory', async () => {
    const inventory = account.inventory;
    const resources: Record<string, { id: string; name: string }[]> = {
      status_pages: inventory.statusPages,
      incident_workflows: inventory.incidentWorkflows,
      business_services: inventory.businessServices,
      event_orchestrations: inventory.eventOrchestrations,
      extensions: inventory.extensions,
      addons: inventory.addons,
      automation_actions: inventory.automationActions,
      priorities: inventory.priorities,
      // PagerDuty lists enabled incident types unless asked otherwise, so fields of disabled types stay unread.
      custom_fields: inventory.customFields
        .filter((field) => inventory.incidentTypes.some((type) => type.id === field.incidentTypeId && type.enabled))
        .map((field) => ({ id: field.id, name: field.displayName })),
    };
    const stored = await rows(`select feature, id, name from pd_feature_resources where connection_id = :connection and deleted_at is null`);
    expect(sorted(stored)).toEqual(sorted(Object.entries(resources).flatMap(([feature, items]) => items.map((item) => ({ feature, id: item.id, name: item.name })))));
    const features = await rows(`select feature, status, resource_count from pd_feature_inventory where connection_id = :connection`);
    expect(sorted(features)).toEqual(sorted(Object.entries(resources).map(([feature, items]) => ({ feature, status: 'available', resource_count: items.length }))));
  });

  it('business service subscribers', async () => {
    const expected = account.inventory.businessServiceSubscribers.map((subscriber) => ({
      subscribable_id: subscriber.businessServiceId,
      subscriber_type: subscriber.subscriberType,
      subscriber_id: subscriber.subscriberId,
    }));
    expect(expected.length).toBeGreaterThan(0);
    expect(
      await rows(`select subscribable_id, subscriber_type, subscriber_id from pd_notification_subscriptions where connection_id = :connection and subscribable_type = 'business_service' and deleted_at is null`).then(sorted),
    ).toEqual(sorted(expected));
  });

  it('incident subscribers', async () => {
    const qualifying = listIncidentsReadForSubscribers(account, {
      asOf: NOW,
      historyDays: HISTORY_DAYS,
      incidentSubscriberReads: { recentDays: INCIDENT_SUBSCRIBERS_RECENT_DAYS, maxIncidents: Number.POSITIVE_INFINITY },
    });
    // More incidents qualify than one run reads, so the bound decides which ones were read.
    expect(qualifying.length).toBeGreaterThan(MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN);
    const incidents = qualifying.slice(0, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN);
    const expected = incidents.flatMap((incident) =>
      incidentSubscribers(account, incident).map((subscriber) => ({ subscribable_id: incident.id, subscriber_type: subscriber.subscriberType, subscriber_id: subscriber.subscriberId })),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(
      await rows(`select subscribable_id, subscriber_type, subscriber_id from pd_notification_subscriptions where connection_id = :connection and subscribable_type = 'incident' and deleted_at is null`).then(sorted),
    ).toEqual(sorted(expected));
    const reads = await rows(`select incident_id from pd_incident_subscriber_reads where connection_id = :connection`);
    expect(reads.map((read) => read.incident_id).sort()).toEqual(incidents.map((incident) => incident.id).sort());
  });
});
