import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from '../analytics/crunch.ts';
import { createTenant, insertLicenses, insertUsers } from '../analytics/testing.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

describe('settings over HTTP', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let csrfToken: string;

  beforeAll(async () => {
    const [pglite] = testDatabaseTargets();
    server = await startTestServer({
      database: await pglite!.open(),
      pagerduty: { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] },
    });
    browser = new TestBrowser(server.url);
    await browser.json('/api/setup', { method: 'POST', json: OWNER });
    csrfToken = (await browser.json<{ csrfToken: string }>('/api/session')).body.csrfToken;
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it('support email change reaches card', async () => {
    const saved = await browser.json<{ supportEmail: string | null; members: { email: string }[] }>('/api/settings/support-email', {
      method: 'PUT',
      json: { supportEmail: 'desk@acme.test' },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.supportEmail).toBe('desk@acme.test');
    expect(saved.body.members.map((member) => member.email)).toEqual([OWNER.email]);

    expect((await browser.json<{ supportEmail: string }>('/api/session')).body.supportEmail).toBe('desk@acme.test');
    expect((await browser.json<{ supportEmail: string }>('/api/apps/pagerduty/card')).body.supportEmail).toBe('desk@acme.test');
    const audit = await browser.json<{ events: { action: string }[] }>('/api/audit');
    expect(audit.body.events[0]?.action).toBe('settings.changed');
  });

  it('invalid unused days names field', async () => {
    const response = await browser.json<{ error: { code: string; message: string } }>('/api/settings/recommendations', {
      method: 'PUT',
      json: { unusedDays: 45 },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('unusedDays');
  });

  it('join link creates member once', async () => {
    const invited = await browser.json<{ role: string }>('/api/members/invites', {
      method: 'POST',
      json: { email: 'newcomer@acme.test', role: 'member' },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(invited.status).toBe(201);
    const outbox = await browser.json<{ messages: { to: string; text: string }[] }>('/api/outbox');
    const text = outbox.body.messages.find((message) => message.to === 'newcomer@acme.test')?.text ?? '';
    const token = new URL(/https?:\/\/\S+\/join\?token=\S+/.exec(text)![0]).searchParams.get('token')!;

    const newcomer = new TestBrowser(server.url);
    const page = await newcomer.request(`/join?token=${encodeURIComponent(token)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Join Acme');
    const joined = await newcomer.request('/join', { method: 'POST', form: { token, name: 'Nia Newcomer', password: 'newcomer password' } });
    expect(joined.status).toBe(303);
    expect(joined.headers.get('location')).toBe('/catalog');
    const session = await newcomer.json<{ user: { role: string; email: string } }>('/api/session');
    expect(session.body.user).toMatchObject({ role: 'member', email: 'newcomer@acme.test' });

    const replay = await new TestBrowser(server.url).request('/join', { method: 'POST', form: { token, name: 'Mallory', password: 'another password 1' } });
    expect(replay.status).toBe(410);
    const forged = await new TestBrowser(server.url).request(`/join?token=${encodeURIComponent(token.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')))}`);
    expect(forged.status).toBe(410);
  });
});

describe('contract prices over HTTP', () => {
  const CRUNCHED_AT = new Date('2026-06-01T12:00:00Z');
  const ADMIN = { email: 'ada@priced.test', password: 'priced admin password' };
  let server: TestServer;
  let browser: TestBrowser;
  let csrfToken: string;
  let organizationId: string;

  beforeAll(async () => {
    const [pglite] = testDatabaseTargets();
    const database = await pglite!.open();
    await migrate(database);
    const tenant = await createTenant(database.db, 'Priced');
    organizationId = tenant.organizationId;
    await insertLicenses(database.db, tenant.connectionId, [{ id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 3, allocationsAvailable: 0 }]);
    await insertUsers(database.db, tenant.connectionId, [
      { id: 'PIDLE1', licenseId: 'LFULL' },
      { id: 'PIDLE2', licenseId: 'LFULL' },
      { id: 'PADMIN', role: 'admin', licenseId: 'LFULL' },
    ]);
    await crunchConnection(database.db, tenant.connectionId, CRUNCHED_AT);
    await insertUser(database.db, { organizationId, email: ADMIN.email, name: 'Ada Admin', passwordHash: await hashPassword(ADMIN.password), role: 'admin' });

    server = await startTestServer({
      database,
      pagerduty: { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] },
    });
    browser = new TestBrowser(server.url);
    expect((await browser.request('/api/session', { method: 'POST', json: ADMIN })).status).toBe(200);
    csrfToken = (await browser.json<{ csrfToken: string }>('/api/session')).body.csrfToken;
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it('saved prices reprice recommendations', async () => {
    type Row = { kind: string; status: string; yearlySavingMinor: number | null };
    const before = await browser.json<{ rows: Row[] }>('/api/recommendations');
    const reclaims = before.body.rows.filter((row) => row.kind === 'reclaim_seat');
    expect(reclaims.length).toBeGreaterThan(0);
    expect(before.body.rows.every((row) => row.yearlySavingMinor === null)).toBe(true);

    const saved = await browser.json<{ recommendationsRecomputedFor: string | null }>('/api/settings/contract', {
      method: 'PUT',
      json: { plan: null, currency: 'USD', billingPeriod: 'monthly', renewalDate: null, noticePeriodDays: 30, lines: [{ licenseName: 'Business (Full User)', roleGroup: 'FullUser', seats: 3, pricePerSeat: '41.00' }] },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.recommendationsRecomputedFor).toBe(CRUNCHED_AT.toISOString());

    const after = await browser.json<{ rows: Row[] }>('/api/recommendations');
    const repriced = after.body.rows.filter((row) => row.kind === 'reclaim_seat');
    expect(repriced.length).toBe(reclaims.length);
    for (const row of repriced) expect(row.yearlySavingMinor).toBe(41_00 * 12);
    const openCount = repriced.filter((row) => row.status !== 'blocked').length;
    expect(openCount).toBeGreaterThan(0);
    const overview = await browser.json<{ savings: { yearlyTotalMinor: number | null; byKind: { unpricedCount: number }[] } }>('/api/overview');
    expect(overview.body.savings.yearlyTotalMinor).toBe(41_00 * 12 * openCount);
    for (const kind of overview.body.savings.byKind) expect(kind.unpricedCount).toBe(0);
  });

  it.each([
    { case: 'a yearly price past the integer range', line: { seats: 3, pricePerSeat: '1800000.00' }, field: 'lines.0.pricePerSeat' },
    { case: 'a price past the integer range', line: { seats: 3, pricePerSeat: '25000000' }, field: 'lines.0.pricePerSeat' },
    { case: 'seats past the integer range', line: { seats: 3_000_000_000, pricePerSeat: '41.00' }, field: 'lines.0.seats' },
  ])('contract with $case answers 400', async ({ line, field }) => {
    type Contract = { contract: { lines: { pricePerSeatMinor: number }[] } | null };
    const before = await browser.json<Contract>('/api/settings');

    const response = await browser.json<{ error: { code: string; message: string } }>('/api/settings/contract', {
      method: 'PUT',
      json: { billingPeriod: 'monthly', lines: [{ licenseName: 'Business (Full User)', ...line }] },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain(field);

    const after = await browser.json<Contract>('/api/settings');
    expect(after.body.contract).toEqual(before.body.contract);
    expect((await browser.json('/api/recommendations')).status).toBe(200);
  });
});
