import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import { crunchConnection } from '../analytics/crunch.ts';
import { createTenant, insertLicenses, insertUsers, type UserSeed } from '../analytics/testing.ts';
import { MAX_PAGE_SIZE, presentPeople } from '../dashboard/people.ts';
import { presentRecommendations } from '../dashboard/recommendations.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = {
  clientId: 'client',
  clientSecret: 'secret',
  identityUrl: 'http://127.0.0.1:9',
  scope: 'read',
  allowedApiBaseUrls: ['http://127.0.0.1:9'],
};
const AS_OF = new Date('2026-06-01T12:00:00Z');
const VIEWER_A = { email: 'vera@alpha.test', password: 'alpha viewer password' };
const ADMIN_B = { email: 'bert@beta.test', password: 'beta admin password' };
/** More people than one presenter page, so the export must read several pages. */
const ALPHA_PEOPLE = MAX_PAGE_SIZE + 37;
const HOSTILE_NAMES = ['=HYPERLINK("http://evil.example","x")', '+SUM(1,2)', '-2+3', '@cmd', '\tTabbed'];

/** Splits RFC 4180 CSV text into rows of cells; enough for the quoting the export writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let isQuoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index]!;
    if (isQuoted) {
      if (character === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else if (character === '"') isQuoted = false;
      else cell += character;
    } else if (character === '"') isQuoted = true;
    else if (character === ',') {
      row.push(cell);
      cell = '';
    } else if (character === '\r' && text[index + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      index += 1;
    } else cell += character;
  }
  return rows;
}

describe.each(testDatabaseTargets())('CSV exports on $name', ({ open }) => {
  let server: TestServer;
  let alpha: { organizationId: string; connectionId: string };
  let beta: { organizationId: string; connectionId: string };

  async function signIn(person: { email: string; password: string }): Promise<TestBrowser> {
    const browser = new TestBrowser(server.url);
    const response = await browser.request('/api/session', { method: 'POST', json: person });
    expect(response.status).toBe(200);
    return browser;
  }

  beforeAll(async () => {
    const database = await open();
    await migrate(database);
    const { db } = database;
    alpha = await createTenant(db, 'Alpha');
    beta = await createTenant(db, 'Beta');

    await insertLicenses(db, alpha.connectionId, [{ id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: ALPHA_PEOPLE, allocationsAvailable: 0 }]);
    const alphaPeople: UserSeed[] = Array.from({ length: ALPHA_PEOPLE }, (_, index) => ({
      id: `PA${String(index).padStart(4, '0')}`,
      name: HOSTILE_NAMES[index] ?? `Alpha Person ${index}`,
      email: `alpha${index}@alpha.test`,
      licenseId: 'LFULL',
      invitationSent: index % 50 === 0,
    }));
    await insertUsers(db, alpha.connectionId, alphaPeople);
    await insertUsers(db, beta.connectionId, [{ id: 'PB0001', name: 'Beta Secret Person', email: 'secret@beta.test' }]);
    await crunchConnection(db, alpha.connectionId, AS_OF);
    await crunchConnection(db, beta.connectionId, AS_OF);

    await insertUser(db, { organizationId: alpha.organizationId, email: VIEWER_A.email, name: 'Vera Viewer', passwordHash: await hashPassword(VIEWER_A.password), role: 'viewer' });
    await insertUser(db, { organizationId: beta.organizationId, email: ADMIN_B.email, name: 'Bert Admin', passwordHash: await hashPassword(ADMIN_B.password), role: 'admin' });
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it('people export contains every page', async () => {
    const browser = await signIn(VIEWER_A);
    const response = await browser.request('/api/exports/people.csv?sort=email&direction=desc&page=2&pageSize=25');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="seatwise-people-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(response.headers.get('cache-control')).toBe('no-store');

    const [header, ...rows] = parseCsv(await response.text());
    expect(header).toEqual(['Name', 'Email', 'Role', 'License', 'Teams', 'Last seen (UTC)', 'Last seen signal', 'Recommendation', 'Removed from PagerDuty', 'Invited, never signed up']);
    expect(rows.length).toBe(ALPHA_PEOPLE);
    expect(new Set(rows.map((row) => row[2]))).toEqual(new Set(['Manager']));

    const expectedEmails: string[] = [];
    for (let page = 1; expectedEmails.length < ALPHA_PEOPLE; page += 1) {
      const view = await presentPeople(server.database.db, alpha.organizationId, { sort: 'email', direction: 'desc', page, pageSize: 100 });
      expectedEmails.push(...view.rows.map((row) => row.email));
    }
    expect(rows.map((row) => row[1])).toEqual(expectedEmails);
  });

  it('filters narrow the export', async () => {
    const browser = await signIn(VIEWER_A);
    const response = await browser.request(`/api/exports/people.csv?search=${encodeURIComponent('alpha1')}&sort=name`);
    const [, ...rows] = parseCsv(await response.text());
    const view = await presentPeople(server.database.db, alpha.organizationId, { search: 'alpha1', sort: 'name', pageSize: MAX_PAGE_SIZE });
    expect(rows.length).toBe(view.total);
    expect(rows.map((row) => row[1])).toEqual(view.rows.map((row) => row.email));
    expect(rows.every((row) => row[1]!.startsWith('alpha1'))).toBe(true);
  });

  it('formula cells are neutralised', async () => {
    const browser = await signIn(VIEWER_A);
    const text = await (await browser.request('/api/exports/people.csv?sort=email')).text();
    const names = new Set(parseCsv(text).map((row) => row[0]));
    for (const hostile of HOSTILE_NAMES) {
      expect(names.has(`'${hostile}`), `${JSON.stringify(hostile)} is prefixed`).toBe(true);
      expect(names.has(hostile), `${JSON.stringify(hostile)} is not left as a formula`).toBe(false);
    }
  });

  it('export never crosses organizations', async () => {
    const alphaText = await (await (await signIn(VIEWER_A)).request('/api/exports/people.csv')).text();
    expect(alphaText).not.toContain('secret@beta.test');
    const betaBrowser = await signIn(ADMIN_B);
    const betaText = await (await betaBrowser.request('/api/exports/people.csv')).text();
    expect(parseCsv(betaText).slice(1).map((row) => row[1])).toEqual(['secret@beta.test']);
    expect(betaText).not.toContain('alpha.test');
    const betaRecommendations = await (await betaBrowser.request('/api/exports/recommendations.csv')).text();
    expect(betaRecommendations).not.toContain('alpha.test');
  });

  it('recommendations export matches page', async () => {
    const browser = await signIn(VIEWER_A);
    const response = await browser.request('/api/exports/recommendations.csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="seatwise-recommendations-\d{4}-\d{2}-\d{2}\.csv"$/);
    const [header, ...rows] = parseCsv(await response.text());
    expect(header?.[0]).toBe('Recommendation');
    const view = await presentRecommendations(server.database.db, alpha.organizationId);
    expect(view.rows.length).toBeGreaterThan(0);
    expect(rows.map((row) => row[2])).toEqual(view.rows.map((row) => row.email));
  });

  it('exports are audited', async () => {
    const browser = await signIn(VIEWER_A);
    await browser.request('/api/exports/people.csv?search=alpha2&license=LFULL&page=3');
    const entry = await server.database.db
      .selectFrom('audit_events')
      .select(['actor_label', 'action', 'details'])
      .where('organization_id', '=', alpha.organizationId)
      .where('action', '=', 'people.exported')
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(entry.actor_label).toBe(VIEWER_A.email);
    const details = entry.details as { filters: string; rowCount: number };
    expect(JSON.parse(details.filters)).toEqual({ search: 'alpha2', license: 'LFULL', sort: 'name', direction: 'asc' });
    const view = await presentPeople(server.database.db, alpha.organizationId, { search: 'alpha2', license: 'LFULL' });
    expect(details.rowCount).toBe(view.total);

    await browser.request('/api/exports/recommendations.csv');
    const recommendations = await server.database.db
      .selectFrom('audit_events')
      .select('details')
      .where('organization_id', '=', alpha.organizationId)
      .where('action', '=', 'recommendations.exported')
      .executeTakeFirstOrThrow();
    expect((recommendations.details as { rowCount: number }).rowCount).toBe((await presentRecommendations(server.database.db, alpha.organizationId)).rows.length);
  });

  it('invalid filter names the field', async () => {
    const browser = await signIn(VIEWER_A);
    const response = await browser.json<{ error: { code: string; message: string } }>('/api/exports/people.csv?sort=password');
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('sort');
  });
});
