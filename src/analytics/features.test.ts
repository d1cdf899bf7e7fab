import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { presentFeatures } from '../dashboard/features.ts';
import { presentPeople } from '../dashboard/people.ts';
import { presentPerson } from '../dashboard/person.ts';
import { presentRecommendations } from '../dashboard/recommendations.ts';
import { crunchConnection } from './crunch.ts';
import { daysAfter, daysBefore } from './scope.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers } from './testing.ts';

// Europe's clocks moved forward at 01:00 UTC on 2026-03-29, inside the week starting Monday 2026-03-23.
const AS_OF = new Date('2026-04-01T12:00:00Z');
const RAW = JSON.stringify({});

describe.each(testDatabaseTargets())('feature analytics on $name', ({ open }) => {
  let database: Database;
  let tenant: { organizationId: string; connectionId: string };

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    const { db } = database;
    tenant = await createTenant(db, 'Acme');
    const connectionId = tenant.connectionId;

    await insertLicenses(db, connectionId, [
      { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 9, allocationsAvailable: 1 },
      { id: 'LSTAKE', name: 'Business (Stakeholder)', roleGroup: 'Stakeholder', currentValue: 0, allocationsAvailable: 2 },
    ]);
    await insertUsers(db, connectionId, [
      { id: 'PRESP', licenseId: 'LFULL', role: 'admin' },
      { id: 'PADMIN2', licenseId: 'LFULL', role: 'admin' },
      { id: 'PSECOND', licenseId: 'LFULL', role: 'limited_user' },
      { id: 'PGONE', licenseId: 'LFULL', deletedAt: daysBefore(AS_OF, 5) },
      { id: 'PWATCH', licenseId: 'LFULL' },
      { id: 'PIDLE', licenseId: 'LFULL' },
      { id: 'PSOLO', licenseId: 'LFULL' },
      { id: 'POWNER', licenseId: 'LFULL', role: 'owner' },
      { id: 'PINVITE', licenseId: 'LFULL', invitationSent: true },
      { id: 'PEXEMPT', licenseId: 'LFULL', email: 'Exempt.Person@example.com' },
      { id: 'PCONFIG', licenseId: 'LFULL' },
    ]);
    await insertLogEntries(db, connectionId, [
      { id: 'A1', type: 'acknowledge_log_entry', createdAt: new Date('2026-03-29T00:30:00Z'), agentId: 'PRESP', channelType: 'website' },
      { id: 'A2', type: 'acknowledge_log_entry', createdAt: new Date('2026-03-29T01:30:00Z'), agentId: 'PRESP', channelType: 'website' },
      { id: 'A3', type: 'acknowledge_log_entry', createdAt: new Date('2026-03-30T10:00:00Z'), agentId: 'PRESP', channelType: 'mobile' },
      { id: 'A4', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 40), agentId: 'PRESP', channelType: 'website' },
      { id: 'A5', type: 'annotate_log_entry', createdAt: daysBefore(AS_OF, 70), agentId: 'PRESP', channelType: 'note' },
      { id: 'A6', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 20), agentId: 'PGONE', channelType: 'slack' },
      { id: 'A7', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 100), agentId: 'PIDLE', channelType: 'email' },
      { id: 'A8', type: 'notify_log_entry', createdAt: daysBefore(AS_OF, 3), agentType: 'service_reference', agentId: 'PSVC', userId: 'PWATCH' },
    ]);

    await db.insertInto('pd_teams').values({ connection_id: connectionId, id: 'TPLAT', name: 'Platform', raw: RAW }).execute();
    await db
      .insertInto('pd_team_members')
      .values([
        { connection_id: connectionId, team_id: 'TPLAT', user_id: 'PRESP', role: 'manager' },
        { connection_id: connectionId, team_id: 'TPLAT', user_id: 'PSECOND', role: 'responder' },
      ])
      .execute();

    // EP1: level 1 targets PRESP and PADMIN2, level 2 the schedule whose only member is PSECOND.
    // EP2: level 1 targets PSOLO alone. EPOLD is deleted and names PIDLE.
    await db
      .insertInto('pd_escalation_policies')
      .values([
        { connection_id: connectionId, id: 'EP1', name: 'Primary', raw: RAW },
        { connection_id: connectionId, id: 'EP2', name: 'Database', raw: RAW },
        { connection_id: connectionId, id: 'EPOLD', name: 'Old', raw: RAW, deleted_at: daysBefore(AS_OF, 50) },
      ])
      .execute();
    await db
      .insertInto('pd_escalation_targets')
      .values([
        { connection_id: connectionId, escalation_policy_id: 'EP1', rule_position: 1, target_type: 'user_reference', target_id: 'PRESP' },
        { connection_id: connectionId, escalation_policy_id: 'EP1', rule_position: 1, target_type: 'user_reference', target_id: 'PADMIN2' },
        { connection_id: connectionId, escalation_policy_id: 'EP1', rule_position: 2, target_type: 'schedule_reference', target_id: 'SSECOND' },
        { connection_id: connectionId, escalation_policy_id: 'EP2', rule_position: 1, target_type: 'user_reference', target_id: 'PSOLO' },
        { connection_id: connectionId, escalation_policy_id: 'EPOLD', rule_position: 1, target_type: 'user_reference', target_id: 'PIDLE' },
      ])
      .execute();
    await db.insertInto('pd_schedules').values({ connection_id: connectionId, id: 'SSECOND', name: 'Secondary', raw: RAW }).execute();
    await db
      .insertInto('pd_schedule_layer_users')
      .values({ connection_id: connectionId, schedule_id: 'SSECOND', layer_id: 'L1', position: 0, user_id: 'PSECOND' })
      .execute();
    await db
      .insertInto('pd_oncalls')
      .values([
        {
          connection_id: connectionId,
          shift_key: 'past',
          user_id: 'PSECOND',
          escalation_policy_id: 'EP1',
          escalation_level: 2,
          schedule_id: 'SSECOND',
          start_at: daysBefore(AS_OF, 10),
          end_at: daysBefore(AS_OF, 3),
        },
        {
          connection_id: connectionId,
          shift_key: 'next',
          user_id: 'PSECOND',
          escalation_policy_id: 'EP1',
          escalation_level: 2,
          schedule_id: 'SSECOND',
          start_at: daysAfter(AS_OF, 4),
          end_at: daysAfter(AS_OF, 11),
        },
        { connection_id: connectionId, shift_key: 'permanent', user_id: 'PRESP', escalation_policy_id: 'EP1', escalation_level: 1, start_at: null, end_at: null },
      ])
      .execute();

    await db
      .insertInto('pd_incidents')
      .values([
        {
          connection_id: connectionId,
          id: 'IOPEN',
          status: 'acknowledged',
          created_at: daysBefore(AS_OF, 1),
          priority_id: 'P1',
          raw: JSON.stringify({ assignments: [{ assignee: { id: 'PIDLE', type: 'user_reference' } }] }),
        },
        {
          connection_id: connectionId,
          id: 'IDONE',
          status: 'resolved',
          created_at: daysBefore(AS_OF, 2),
          raw: JSON.stringify({ assignments: [{ assignee: { id: 'PSOLO', type: 'user_reference' } }] }),
        },
      ])
      .execute();
    await db
      .insertInto('pd_oauth_delegations')
      .values([
        { connection_id: connectionId, id: 'D1', user_id: 'PWATCH', delegation_type: 'web', created_at: daysBefore(AS_OF, 5), raw: RAW },
        { connection_id: connectionId, id: 'D2', user_id: 'PWATCH', delegation_type: 'web', created_at: daysBefore(AS_OF, 45), raw: RAW },
      ])
      .execute();
    await db
      .insertInto('pd_notifications')
      .values([
        { connection_id: connectionId, id: 'N1', type: 'email_notification', started_at: daysBefore(AS_OF, 3), user_id: 'PWATCH', raw: RAW },
        { connection_id: connectionId, id: 'N2', type: 'push_notification', started_at: daysBefore(AS_OF, 35), user_id: 'PRESP', raw: RAW },
      ])
      .execute();
    await db
      .insertInto('pd_audit_records')
      .values({ connection_id: connectionId, id: 'R1', execution_time: daysBefore(AS_OF, 3), actor_type: 'user_reference', actor_id: 'PCONFIG', action: 'update', raw: RAW })
      .execute();
    await db
      .insertInto('pd_feature_inventory')
      .values([
        { connection_id: connectionId, feature: 'status_pages', status: 'available', resource_count: 2 },
        { connection_id: connectionId, feature: 'incident_workflows', status: 'unavailable', reason: 'The plan lacks incident workflows (HTTP 402).' },
      ])
      .execute();
    await db
      .insertInto('pd_capabilities')
      .values({ connection_id: connectionId, abilities: '[]', unavailable_streams: JSON.stringify({ audit_records: 'The plan lacks the Audit Trail feature.' }) })
      .execute();

    const contract = await db
      .insertInto('contracts')
      .values({ organization_id: tenant.organizationId, provider: 'pagerduty', billing_period: 'monthly', currency: 'USD' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('contract_lines')
      .values([
        { contract_id: contract.id, license_name: 'Business (Full User)', role_group: 'FullUser', seats: 10, price_per_seat_minor: 4_100 },
        { contract_id: contract.id, license_name: 'Business (Stakeholder)', role_group: 'Stakeholder', seats: 2, price_per_seat_minor: 300 },
      ])
      .execute();
    await db
      .insertInto('recommendation_exemptions')
      .values({ organization_id: tenant.organizationId, provider: 'pagerduty', email: 'exempt.person@example.com', reason: 'Board member' })
      .execute();

    await crunchConnection(db, connectionId, AS_OF);
  });

  afterAll(async () => {
    await database.close();
  });

  async function featureOf(externalId: string, featureKey: string) {
    return database.db
      .selectFrom('person_features')
      .selectAll()
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', externalId)
      .where('feature_key', '=', featureKey)
      .executeTakeFirst();
  }

  async function personOf(externalId: string) {
    return database.db
      .selectFrom('people')
      .selectAll()
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', externalId)
      .executeTakeFirstOrThrow();
  }

  async function recommendationOf(externalId: string) {
    return database.db
      .selectFrom('recommendations')
      .selectAll()
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  it('counts features in rolling windows', async () => {
    const acknowledge = await featureOf('PRESP', 'incident_acknowledge');
    expect(acknowledge?.count_30d).toBe(3);
    expect(acknowledge?.first_used_at.toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(acknowledge?.last_used_at.toISOString()).toBe('2026-03-30T10:00:00.000Z');
    const resolve = await featureOf('PRESP', 'incident_resolve');
    expect([resolve?.count_30d, resolve?.count_60d, resolve?.count_90d]).toEqual([0, 1, 1]);
    const note = await featureOf('PRESP', 'incident_note');
    expect([note?.count_30d, note?.count_60d, note?.count_90d]).toEqual([0, 0, 1]);
    const mobile = await featureOf('PRESP', 'mobile_app');
    expect(mobile?.count_30d).toBe(1);
    const push = await featureOf('PRESP', 'notification_push');
    expect([push?.count_30d, push?.count_60d]).toEqual([0, 1]);
  });

  it('keeps first use beyond 90 days', async () => {
    const old = await featureOf('PIDLE', 'incident_acknowledge');
    expect(old?.first_used_at.toISOString()).toBe(daysBefore(AS_OF, 100).toISOString());
    expect(old?.count_90d).toBe(0);
  });

  it('buckets daylight-saving days in UTC', async () => {
    const days = await database.db
      .selectFrom('activity_daily')
      .select([sql<string>`day::text`.as('day'), 'event_count'])
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', 'PRESP')
      .where('feature_key', '=', 'incident_acknowledge')
      .orderBy('day')
      .execute();
    expect(days).toEqual([
      { day: '2026-03-29', event_count: 2 },
      { day: '2026-03-30', event_count: 1 },
    ]);
  });

  it('reports weekly active people', async () => {
    const view = await presentFeatures(database.db, tenant.organizationId, { weeks: 3 });
    const acknowledgeWeeks = view.weekly.filter((row) => row.featureKey === 'incident_acknowledge');
    expect(acknowledgeWeeks).toEqual([
      { weekStart: '2026-03-23', featureKey: 'incident_acknowledge', activePeople: 1 },
      { weekStart: '2026-03-30', featureKey: 'incident_acknowledge', activePeople: 1 },
    ]);
    const platformWeeks = view.weeklyByTeam.filter((row) => row.team === 'Platform');
    expect(platformWeeks).toEqual([
      { weekStart: '2026-03-16', team: 'Platform', activePeople: 1 },
      { weekStart: '2026-03-23', team: 'Platform', activePeople: 1 },
      { weekStart: '2026-03-30', team: 'Platform', activePeople: 1 },
    ]);
    const acknowledge = view.features.find((feature) => feature.key === 'incident_acknowledge');
    expect(acknowledge).toMatchObject({ people30d: 1, people90d: 1, events30d: 3, events90d: 3 });
  });

  it('sets last activity from every signal', async () => {
    const watcher = await personOf('PWATCH');
    expect(watcher.last_seen_at).toBeNull();
    expect(watcher.last_activity_at?.toISOString()).toBe(daysBefore(AS_OF, 5).toISOString());
    expect(watcher.last_activity_signal).toBe('sign_in');
    expect(watcher.last_activity_detail).toBe('Web sign-in');
    const responder = await personOf('PRESP');
    expect(responder.last_activity_signal).toBe('incident_action');
    expect(responder.last_activity_detail).toBe('acknowledge via mobile');
  });

  it('tracks secondary on-call people', async () => {
    const secondary = await personOf('PSECOND');
    expect(secondary.last_seen_at).toBeNull();
    expect(secondary.last_activity_signal).toBe('on_call_shift');
    expect(secondary.last_activity_at?.toISOString()).toBe(daysBefore(AS_OF, 10).toISOString());
    expect(secondary.escalation_policy_ids).toEqual(['EP1']);
    expect(secondary.schedule_ids).toEqual(['SSECOND']);
    expect(secondary.upcoming_shift_count).toBe(1);
    expect(secondary.teams).toEqual(['Platform']);
    expect(await recommendationOf('PSECOND')).toBeUndefined();
  });

  it('records coverage of responders', async () => {
    const responder = await personOf('PRESP');
    expect(responder.is_permanent_on_call).toBe(true);
    expect(responder.escalation_policy_ids).toEqual(['EP1']);
    const idle = await personOf('PIDLE');
    expect(idle.open_incident_count).toBe(1);
    expect(idle.escalation_policy_ids).toEqual([]);
  });

  it('keeps deleted people out of recommendations', async () => {
    const deletedPerson = await personOf('PGONE');
    expect(deletedPerson.is_deleted).toBe(true);
    expect((await featureOf('PGONE', 'chat_integration'))?.count_30d).toBe(1);
    expect(await recommendationOf('PGONE')).toBeUndefined();
  });

  it('recommends a downgrade for watchers', async () => {
    const recommendation = await recommendationOf('PWATCH');
    expect(recommendation?.kind).toBe('downgrade_to_stakeholder');
    expect(recommendation?.status).toBe('ready');
    expect(recommendation?.yearly_saving_minor).toBe((4_100 - 300) * 12);
    expect(recommendation?.evidence).toMatchObject({ responderActions: 0, lastActivitySignal: 'sign_in' });
  });

  it('keeps configurers as full users', async () => {
    expect(await recommendationOf('PCONFIG')).toBeUndefined();
  });

  it('applies guardrails to reclaims', async () => {
    const expectations: Array<[string, string, string]> = [
      ['PIDLE', 'reclaim_seat', 'open_incidents'],
      ['PSOLO', 'reclaim_seat', 'strands_escalation_level'],
      ['POWNER', 'reclaim_seat', 'account_owner'],
      ['PEXEMPT', 'reclaim_seat', 'exempt'],
    ];
    for (const [externalId, kind, code] of expectations) {
      const recommendation = await recommendationOf(externalId);
      expect(recommendation?.kind, externalId).toBe(kind);
      expect(recommendation?.status, externalId).toBe('blocked');
      expect(recommendation?.guardrails.map((guardrail) => guardrail.code), externalId).toContain(code);
    }
  });

  it('recommends removing pending invitations', async () => {
    const recommendation = await recommendationOf('PINVITE');
    expect(recommendation?.kind).toBe('remove_invitation');
    expect(recommendation?.status).toBe('ready');
    expect(recommendation?.yearly_saving_minor).toBe(49_200);
  });

  it('waits a window for new invitees', async () => {
    const newco = await createTenant(database.db, 'Newco');
    await insertLicenses(database.db, newco.connectionId, [{ id: 'LNEW', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 2, allocationsAvailable: 0 }]);
    await insertUsers(database.db, newco.connectionId, [
      { id: 'PJUSTINVITED', licenseId: 'LNEW', invitationSent: true },
      { id: 'PLONGINVITED', licenseId: 'LNEW', invitationSent: true },
    ]);
    const analyticsRow = (userId: string, createdAt: Date) => ({
      connection_id: newco.connectionId,
      user_id: userId,
      signed_up: false,
      raw: JSON.stringify({ id: userId, created_at: createdAt.toISOString(), signed_up: false }),
    });
    await database.db
      .insertInto('pd_analytics_users')
      .values([analyticsRow('PJUSTINVITED', daysBefore(AS_OF, 3)), analyticsRow('PLONGINVITED', daysBefore(AS_OF, 120))])
      .execute();
    await crunchConnection(database.db, newco.connectionId, AS_OF);

    const recommendations = await database.db.selectFrom('recommendations').select(['external_id', 'kind']).where('connection_id', '=', newco.connectionId).execute();
    expect(recommendations).toEqual([{ external_id: 'PLONGINVITED', kind: 'remove_invitation' }]);
  });

  it('presents recommendations with totals', async () => {
    const view = await presentRecommendations(database.db, tenant.organizationId);
    expect(view.currency).toBe('USD');
    expect(view.rows.map((row) => row.externalId)).toEqual(['PINVITE', 'PWATCH', 'PADMIN2', 'PEXEMPT', 'PIDLE', 'POWNER', 'PSOLO']);
    expect(view.totals).toEqual({ yearlySavingMinor: 49_200 + 45_600 + 49_200, ready: 2, flagged: 1, blocked: 4 });
    const sharedLevel = view.rows.find((row) => row.externalId === 'PADMIN2');
    expect(sharedLevel?.status).toBe('flagged');
    expect(sharedLevel?.guardrails.map((guardrail) => guardrail.code)).toEqual(['on_escalation_policy']);
    expect(view.rows[0]?.effectiveDate).toBe('2026-05-01');
  });

  it('reports signal availability', async () => {
    const view = await presentFeatures(database.db, tenant.organizationId);
    const configuration = view.signals.find((signal) => signal.signal === 'configuration_change');
    expect(configuration).toEqual({ signal: 'configuration_change', status: 'unavailable', reason: 'The plan lacks the Audit Trail feature.' });
    const statusPages = view.accountFeatures.find((feature) => feature.key === 'account_status_pages');
    expect(statusPages).toMatchObject({ status: 'available', configuredCount: 2 });
    const workflows = view.accountFeatures.find((feature) => feature.key === 'account_incident_workflows');
    expect(workflows).toMatchObject({ status: 'unavailable', configuredCount: null });
    const priorities = view.accountFeatures.find((feature) => feature.key === 'account_priorities');
    expect(priorities).toMatchObject({ status: 'unknown', exercisedCount90d: 1 });
    expect(priorities?.reason).toBe('Seatwise does not read whether this feature is set up in PagerDuty.');
  });

  it('presents one person in full', async () => {
    const view = await presentPerson(database.db, tenant.organizationId, 'PRESP');
    expect(view?.teams).toEqual(['Platform']);
    expect(view?.coverage).toEqual({ escalationPolicyIds: ['EP1'], scheduleIds: [], upcomingShiftCount: 0, isPermanentOnCall: true, openIncidentCount: 0 });
    expect(view?.features.map((feature) => feature.key)).toEqual(['incident_acknowledge', 'incident_resolve', 'incident_note', 'escalation_policy_member', 'mobile_app', 'notification_push']);
    expect(view?.unavailableSignals.map((signal) => signal.signal)).toContain('configuration_change');
    expect(await presentPerson(database.db, tenant.organizationId, 'PNOBODY')).toBeNull();
  });

  it('people rows carry recommendation', async () => {
    const view = await presentPeople(database.db, tenant.organizationId, { search: 'pwatch' });
    expect(view.rows[0]?.recommendation).toEqual({ kind: 'downgrade_to_stakeholder', status: 'ready' });
    expect(view.rows[0]?.lastActivitySignal).toBe('sign_in');
  });

  it('recomputes only changed days', async () => {
    const before = await database.db
      .selectFrom('activity_daily')
      .select(['external_id', 'feature_key', sql<string>`day::text`.as('day'), 'event_count'])
      .where('connection_id', '=', tenant.connectionId)
      .orderBy(['external_id', 'feature_key', 'day'])
      .execute();
    const later = new Date('2026-04-02T12:00:00Z');
    await insertLogEntries(database.db, tenant.connectionId, [
      { id: 'B1', type: 'acknowledge_log_entry', createdAt: new Date('2026-04-02T08:00:00Z'), agentId: 'PWATCH', channelType: 'website' },
    ]);
    await crunchConnection(database.db, tenant.connectionId, later, { changedSince: new Date('2026-04-02T07:00:00Z') });

    const after = await database.db
      .selectFrom('activity_daily')
      .select(['external_id', 'feature_key', sql<string>`day::text`.as('day'), 'event_count'])
      .where('connection_id', '=', tenant.connectionId)
      .orderBy(['external_id', 'feature_key', 'day'])
      .execute();
    expect(after.filter((row) => row.day < '2026-04-02')).toEqual(before);
    expect(after.filter((row) => row.day === '2026-04-02')).toEqual([{ external_id: 'PWATCH', feature_key: 'incident_acknowledge', day: '2026-04-02', event_count: 1 }]);
    expect(await recommendationOf('PWATCH')).toBeUndefined();
  });
});
