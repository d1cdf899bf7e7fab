import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import { crunchConnection, daysBefore } from '../analytics/crunch.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers, type UserSeed } from '../analytics/testing.ts';
import { presentPerson } from '../dashboard/person.ts';
import { presentRecommendations } from '../dashboard/recommendations.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: ['http://127.0.0.1:9'] };
const AS_OF = new Date('2026-06-01T12:00:00Z');
const VIEWER = { email: 'vera@acme.test', password: 'acme viewer password' };
const USERS: UserSeed[] = [
  { id: 'PA', name: 'Ada', licenseId: 'LFULL' },
  { id: 'PB', name: 'Bob', licenseId: 'LFULL' },
  { id: 'PC', name: 'Cyd', licenseId: 'LFULL' },
];
const TEAM_MEMBERS = ['PA'];

describe.each(testDatabaseTargets())('person and recommendations routes on $name', ({ open }) => {
  let server: TestServer;
  let browser: TestBrowser;
  let tenant: { organizationId: string; connectionId: string };

  beforeAll(async () => {
    const database = await open();
    await migrate(database);
    const { db } = database;
    tenant = await createTenant(db, 'Acme');
    await insertLicenses(db, tenant.connectionId, [{ id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 3, allocationsAvailable: 0 }]);
    await insertUsers(db, tenant.connectionId, USERS);
    await insertLogEntries(db, tenant.connectionId, [{ id: 'L1', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 2), agentId: 'PA', channelType: 'mobile' }]);
    await db.insertInto('pd_teams').values({ connection_id: tenant.connectionId, id: 'TPLAT', name: 'Platform', raw: '{}' }).execute();
    await db
      .insertInto('pd_team_members')
      .values(TEAM_MEMBERS.map((userId) => ({ connection_id: tenant.connectionId, team_id: 'TPLAT', user_id: userId, role: 'responder' })))
      .execute();
    await crunchConnection(db, tenant.connectionId, AS_OF);

    // A recommendation with evidence and both guardrail severities, so every nested field is sent.
    await db.deleteFrom('recommendations').where('connection_id', '=', tenant.connectionId).execute();
    await db
      .insertInto('recommendations')
      .values({
        connection_id: tenant.connectionId,
        organization_id: tenant.organizationId,
        kind: 'reclaim_seat',
        external_id: 'PB',
        email: 'pb@example.com',
        name: 'Bob',
        license_id: 'LFULL',
        license_name: 'Business (Full User)',
        status: 'flagged',
        currency: 'USD',
        yearly_saving_minor: 49_200,
        effective_date: '2026-07-01',
        evidence: JSON.stringify({ lastActivityAt: null, unusedDays: 90 }),
        guardrails: JSON.stringify([
          { code: 'upcoming_on_call', severity: 'flag', message: 'On call next week.' },
          { code: 'exempt', severity: 'block', message: 'On the exempt list.' },
        ]),
      })
      .execute();

    await insertUser(db, { organizationId: tenant.organizationId, email: VIEWER.email, name: 'Vera Viewer', passwordHash: await hashPassword(VIEWER.password), role: 'viewer' });
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
    browser = new TestBrowser(server.url);
    const signedIn = await browser.request('/api/session', { method: 'POST', json: VIEWER });
    expect(signedIn.status).toBe(200);
  });

  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it.each(['PA', 'PB'])('person %s body keeps every field', async (externalId) => {
    const response = await browser.json<unknown>(`/api/people/${externalId}`);
    expect(response.status).toBe(200);
    const view = await presentPerson(server.database.db, tenant.organizationId, externalId);
    expect(view).not.toBeNull();
    expect(response.body).toEqual(JSON.parse(JSON.stringify(view)));
  });

  it('recommendations body keeps every field', async () => {
    const response = await browser.json<{ rows: { guardrails: unknown[]; evidence: unknown }[] }>('/api/recommendations');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(await presentRecommendations(server.database.db, tenant.organizationId))));
    expect(response.body.rows[0]?.guardrails).toHaveLength(2);
    expect(response.body.rows[0]?.evidence).toEqual({ lastActivityAt: null, unusedDays: 90 });
  });

  it('people filter lists people in no team', async () => {
    const response = await browser.json<{ rows: { externalId: string }[]; total: number }>('/api/people?noTeam=true');
    expect(response.status).toBe(200);
    const expected = USERS.filter((user) => !TEAM_MEMBERS.includes(user.id)).map((user) => user.id);
    expect(response.body.rows.map((row) => row.externalId).sort()).toEqual(expected.sort());
    expect(response.body.total).toBe(expected.length);
  });

  it('people noTeam=false lists everyone', async () => {
    const response = await browser.json<{ total: number }>('/api/people?noTeam=false');
    expect(response.status).toBe(200);
    expect(response.body.total).toBe(USERS.length);
  });

  it('people noTeam with team is a 400', async () => {
    const response = await browser.json<{ error: { code: string; message: string } }>('/api/people?noTeam=true&team=Platform');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain('noTeam');
    expect(response.body.error.message).toContain('cannot be combined with team');
  });

  it('people noTeam rejects other values', async () => {
    const response = await browser.json<{ error: { code: string; message: string } }>('/api/people?noTeam=yes');
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('querystring.noTeam');
    expect(response.body.error.message).toContain('"yes"');
  });

  it('OpenAPI describes person and recommendations bodies', async () => {
    const response = await browser.json<{ paths: Record<string, { get?: { parameters?: { name: string }[]; responses?: Record<string, unknown> } }> }>('/api/openapi.json');
    expect(response.status).toBe(200);
    const person = JSON.stringify(response.body.paths['/api/people/{externalId}']?.get?.responses?.['200'] ?? {});
    for (const field of ['coverage', 'upcomingShiftCount', 'unavailableSignals', 'firstUsedAt', 'guardrails']) expect(person).toContain(field);
    const recommendations = JSON.stringify(response.body.paths['/api/recommendations']?.get?.responses?.['200'] ?? {});
    for (const field of ['totals', 'yearlySavingMinor', 'effectiveDate', 'severity', 'no_stakeholder_seat']) expect(recommendations).toContain(field);
    const peopleParameters = response.body.paths['/api/people']?.get?.parameters ?? [];
    expect(peopleParameters.map((parameter) => parameter.name)).toContain('noTeam');
  });
});
