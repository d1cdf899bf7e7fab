import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection, daysBefore } from './crunch.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers } from './testing.ts';

const AS_OF = new Date('2026-06-01T12:00:00Z');
const HOUR_MS = 3_600_000;

describe.each(testDatabaseTargets())('crunchConnection on $name', ({ open }) => {
  let database: Database;
  let acme: { organizationId: string; connectionId: string };
  let globex: { organizationId: string; connectionId: string };

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    const { db } = database;
    acme = await createTenant(db, 'Acme');
    globex = await createTenant(db, 'Globex');

    await insertLicenses(db, acme.connectionId, [
      { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 5, allocationsAvailable: 3 },
      { id: 'LSTAKE', name: 'Business (Stakeholder)', roleGroup: 'Stakeholder', currentValue: 1, allocationsAvailable: null },
    ]);
    await insertUsers(db, acme.connectionId, [
      { id: 'PDAILY', licenseId: 'LFULL' },
      { id: 'P31DAYS', licenseId: 'LFULL' },
      { id: 'PANCIENT', licenseId: 'LFULL' },
      { id: 'PNOTIFIED', licenseId: 'LFULL' },
      { id: 'PGONE', licenseId: 'LFULL', deletedAt: new Date('2026-05-01T00:00:00Z') },
      { id: 'PWATCHER', licenseId: 'LSTAKE', role: 'read_only_user' },
      { id: 'PUNLICENSED' },
      { id: 'PINVITED', licenseId: 'LFULL', invitationSent: true },
    ]);
    await insertLogEntries(db, acme.connectionId, [
      { id: 'E1', type: 'acknowledge_log_entry', createdAt: new Date(AS_OF.getTime() - 2 * HOUR_MS), agentId: 'PDAILY', channelType: 'mobile' },
      { id: 'E2', type: 'resolve_log_entry', createdAt: new Date(AS_OF.getTime() - 5 * HOUR_MS), agentId: 'PDAILY', channelType: 'website' },
      { id: 'E3', type: 'annotate_log_entry', createdAt: daysBefore(AS_OF, 31), agentId: 'P31DAYS', channelType: null },
      { id: 'E4', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 91), agentId: 'PANCIENT', channelType: 'email' },
      { id: 'E5', type: 'notify_log_entry', createdAt: daysBefore(AS_OF, 1), agentType: 'service_reference', agentId: 'PSERVICE', userId: 'PNOTIFIED' },
      { id: 'E6', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 40), agentId: 'PGONE', channelType: 'website' },
      { id: 'E7', type: 'acknowledge_log_entry', createdAt: new Date(AS_OF.getTime() + HOUR_MS), agentId: 'P31DAYS', channelType: 'website' },
      { id: 'E8', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 2), agentId: 'PUNLICENSED', channelType: 'slack' },
    ]);

    await insertLicenses(db, globex.connectionId, [
      { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 1, allocationsAvailable: 0 },
    ]);
    await insertUsers(db, globex.connectionId, [{ id: 'PDAILY', name: 'Globex person', licenseId: 'LFULL' }]);

    await crunchConnection(db, acme.connectionId, AS_OF);
    await crunchConnection(db, globex.connectionId, AS_OF);
  });

  afterAll(async () => {
    await database.close();
  });

  async function person(externalId: string, connectionId = acme.connectionId) {
    return database.db
      .selectFrom('people')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where('external_id', '=', externalId)
      .executeTakeFirstOrThrow();
  }

  async function seat(licenseId: string, connectionId = acme.connectionId) {
    return database.db
      .selectFrom('seat_summaries')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where('license_id', '=', licenseId)
      .executeTakeFirstOrThrow();
  }

  it('sets last seen from newest action', async () => {
    const daily = await person('PDAILY');
    expect(daily.last_seen_at?.toISOString()).toBe(new Date(AS_OF.getTime() - 2 * HOUR_MS).toISOString());
    expect(daily.last_seen_signal).toBe('incident_action');
    expect(daily.last_seen_detail).toBe('acknowledge via mobile');
    expect(daily.organization_id).toBe(acme.organizationId);
  });

  it('names the type without a channel', async () => {
    const lateAction = await person('P31DAYS');
    expect(lateAction.last_seen_at?.toISOString()).toBe(daysBefore(AS_OF, 31).toISOString());
    expect(lateAction.last_seen_detail).toBe('annotate');
  });

  it('ignores entries outside the lookback', async () => {
    const ancient = await person('PANCIENT');
    expect(ancient.last_seen_at).toBeNull();
    expect(ancient.last_seen_signal).toBeNull();
    expect(ancient.last_seen_detail).toBeNull();
  });

  it('ignores notifications sent by services', async () => {
    const notified = await person('PNOTIFIED');
    expect(notified.last_seen_at).toBeNull();
  });

  it('marks deleted people and keeps history', async () => {
    const deletedPerson = await person('PGONE');
    expect(deletedPerson.is_deleted).toBe(true);
    expect(deletedPerson.last_seen_at?.toISOString()).toBe(daysBefore(AS_OF, 40).toISOString());
    expect(deletedPerson.last_seen_detail).toBe('resolve via website');
  });

  it('keeps people without a license', async () => {
    const unlicensed = await person('PUNLICENSED');
    expect(unlicensed.license_id).toBeNull();
    expect(unlicensed.license_name).toBeNull();
    expect(unlicensed.role_group).toBeNull();
    expect(unlicensed.last_seen_detail).toBe('acknowledge via slack');
  });

  it('flags invited people who never acted', async () => {
    expect((await person('PINVITED')).is_invited_never_signed_up).toBe(true);
    expect((await person('PDAILY')).is_invited_never_signed_up).toBe(false);
  });

  it('counts full user seats', async () => {
    const full = await seat('LFULL');
    expect(full.license_name).toBe('Business (Full User)');
    expect(full.role_group).toBe('FullUser');
    expect(full.paid).toBe(8);
    // PDAILY, P31DAYS, PANCIENT, PNOTIFIED, PINVITED; PGONE is deleted.
    expect(full.allocated).toBe(5);
    expect(full.active_30d).toBe(1);
    expect(full.active_90d).toBe(2);
    expect(full.never_active).toBe(3);
  });

  it('leaves paid unknown without limit', async () => {
    const stakeholder = await seat('LSTAKE');
    expect(stakeholder.paid).toBeNull();
    expect(stakeholder.allocated).toBe(1);
    expect(stakeholder.never_active).toBe(1);
  });

  it('isolates tenants by organization', async () => {
    const other = await person('PDAILY', globex.connectionId);
    expect(other.name).toBe('Globex person');
    expect(other.organization_id).toBe(globex.organizationId);
    expect(other.last_seen_at).toBeNull();
    const otherSeat = await seat('LFULL', globex.connectionId);
    expect(otherSeat.allocated).toBe(1);
    expect(otherSeat.paid).toBe(1);
    expect(otherSeat.active_90d).toBe(0);
    const acmePeople = await database.db.selectFrom('people').select('external_id').where('organization_id', '=', acme.organizationId).execute();
    expect(acmePeople).toHaveLength(8);
  });

  it('gives the same result when rerun', async () => {
    const before = await database.db.selectFrom('seat_summaries').selectAll().where('connection_id', '=', acme.connectionId).orderBy('license_id').execute();
    await crunchConnection(database.db, acme.connectionId, AS_OF);
    const after = await database.db.selectFrom('seat_summaries').selectAll().where('connection_id', '=', acme.connectionId).orderBy('license_id').execute();
    expect(after).toEqual(before);
  });

  it('rebuilds facts lost in a crash', async () => {
    // Unlogged, so a server crash empties the table while every other figure stays.
    const table = await database.query<{ relpersistence: string }>(`select relpersistence from pg_class where relname = 'activity_daily'`);
    expect(table.rows[0]?.relpersistence).toBe('u');

    const snapshot = async () => ({
      facts: await database.db.selectFrom('activity_daily').selectAll().where('connection_id', '=', acme.connectionId).orderBy(['external_id', 'feature_key', 'day']).execute(),
      features: await database.db.selectFrom('person_features').selectAll().where('connection_id', '=', acme.connectionId).orderBy(['external_id', 'feature_key']).execute(),
      weeks: await database.db.selectFrom('weekly_feature_activity').selectAll().where('connection_id', '=', acme.connectionId).orderBy(['week_start', 'feature_key']).execute(),
      personWeeks: await database.db.selectFrom('person_active_weeks').selectAll().where('connection_id', '=', acme.connectionId).orderBy('external_id').execute(),
    });
    const before = await snapshot();
    expect(before.facts.length).toBeGreaterThan(3);

    await database.db.deleteFrom('activity_daily').where('connection_id', '=', acme.connectionId).execute();
    await crunchConnection(database.db, acme.connectionId, AS_OF, { changedSince: new Date(AS_OF.getTime() - HOUR_MS) });
    expect(await snapshot()).toEqual(before);
  });

  it('runs concurrently for two tenants', async () => {
    await Promise.all([crunchConnection(database.db, acme.connectionId, AS_OF), crunchConnection(database.db, globex.connectionId, AS_OF)]);
    const features = await database.db.selectFrom('features').select('key').execute();
    expect(features.length).toBeGreaterThan(20);
  });

  it('rejects an unknown connection', async () => {
    await expect(crunchConnection(database.db, '00000000-0000-4000-8000-000000000000', AS_OF)).rejects.toThrow(/no such connection/);
    await expect(crunchConnection(database.db, 'not-a-uuid', AS_OF)).rejects.toThrow(/must be a UUID/);
  });
});
