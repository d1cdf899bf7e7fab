import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: ['http://127.0.0.1:9'] };
const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

interface ErrorBody {
  error: { code: string; message: string };
}

describe('dashboard API filters', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
    browser = new TestBrowser(server.url);
    const created = await browser.json('/api/setup', { method: 'POST', json: OWNER });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  it.each([
    ['activity', 'active7d'],
    ['activity', 'ACTIVE30D'],
    ['seat', 'paid'],
    ['recommendation', 'fire_everyone'],
    ['sort', 'password'],
    ['direction', 'up'],
  ])('people %s=%s is a 400 naming the value', async (field, value) => {
    const response = await browser.json<ErrorBody>(`/api/people?${new URLSearchParams({ [field]: value }).toString()}`);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(`querystring.${field}`);
    expect(response.body.error.message).toContain(JSON.stringify(value));
  });

  it.each([
    ['/api/people?licence=Full', 'licence'],
    ['/api/exports/people.csv?teams=Platform', 'teams'],
    ['/api/features?week=4', 'week'],
  ])('unknown query key %s is a 400', async (path, key) => {
    const response = await browser.json<ErrorBody>(path);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(key);
  });

  it('people empty team is a 400', async () => {
    const response = await browser.json<ErrorBody>('/api/people?team=%20%20');

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('querystring.team');
  });

  it('people too long team is a 400', async () => {
    const response = await browser.json<ErrorBody>(`/api/people?team=${'x'.repeat(201)}`);

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('team must have at most 200 characters');
  });

  it('people accepts every filter together', async () => {
    const query = new URLSearchParams({ search: 'ada', license: 'Full', team: 'Platform', activity: 'inactive90d', seat: 'allocated', recommendation: 'none', sort: 'lastSeen', direction: 'desc', page: '2', pageSize: '25' });
    const response = await browser.json<{ rows: unknown[]; total: number; teamOptions: string[]; page: number; pageSize: number }>(`/api/people?${query.toString()}`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ rows: [], total: 0, teamOptions: [], page: 2, pageSize: 25 });
  });

  it('logs no error for rejected filters', async () => {
    await browser.json('/api/people?activity=active7d');

    expect(server.logLines.some((line) => line.includes('"level":50'))).toBe(false);
  });

  it('OpenAPI describes filters and new views', async () => {
    const response = await browser.json<{ paths: Record<string, { get?: { parameters?: { name: string; schema?: { enum?: string[] } }[]; responses?: Record<string, unknown> } }> }>(
      '/api/openapi.json',
    );
    expect(response.status).toBe(200);

    const peopleParameters = response.body.paths['/api/people']?.get?.parameters ?? [];
    const byName = new Map(peopleParameters.map((parameter) => [parameter.name, parameter]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['search', 'license', 'team', 'activity', 'seat', 'recommendation', 'sort', 'direction', 'page', 'pageSize']));
    expect(byName.get('activity')?.schema?.enum).toEqual(['active30d', 'active60d', 'active90d', 'inactive30d', 'inactive60d', 'inactive90d', 'never']);
    expect(byName.get('recommendation')?.schema?.enum).toEqual(['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation', 'none']);

    const overview = JSON.stringify(response.body.paths['/api/overview']?.get?.responses ?? {});
    for (const field of ['savings', 'weeklyActivity', 'freshness', 'confidence', 'lastSuccessfulSyncAt', 'isVisibilityLimited']) expect(overview).toContain(field);
    const features = JSON.stringify(response.body.paths['/api/features']?.get?.responses ?? {});
    for (const field of ['teamFeatureUse', 'memberCount', 'share']) expect(features).toContain(field);
  });
});
