import type { APIRequestContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, type LaunchedBrowser, type PageHarness } from '../support/browser.ts';
import { startSeatwiseProcess, type SeatwiseProcess } from '../support/seatwise-process.ts';

const SUPPORT_EMAIL = 'help@walkthrough.example';
const OWNER = { organizationName: 'Acme Corp', name: 'Ada Admin', email: 'ada@acme.example', password: 'correct horse battery staple' };
const SYNC_TIMEOUT_MS = 180_000;
/** Covers start-up, the OAuth round trip, the first sync and paging through every person. */
const WALKTHROUGH_TIMEOUT_MS = 300_000;

interface SeatTruth {
  licenseId: string;
  licenseName: string;
  roleGroup: string;
  paid: number | null;
  allocated: number;
  active30d: number;
  active90d: number;
  neverActive: number;
}

interface PersonTruth {
  id: string;
  name: string;
  email: string;
  role: string;
  licenseId: string;
  lastSeenAt: string | null;
  lastSeenSignal: string | null;
}

interface GroundTruth {
  asOf: string;
  account: { subdomain: string; region: string };
  seats: SeatTruth[];
  people: PersonTruth[];
}

interface PeopleRow {
  externalId: string;
  teams: string[];
  recommendation: { kind: string; status: string } | null;
  name: string;
  email: string;
  role: string;
  licenseName: string | null;
  lastSeenAt: string | null;
  lastSeenSignal: string | null;
}

/**
 * A newcomer's first session, in Chromium against `seatwise start` in demo mode: create the
 * organization, open the PagerDuty app page, connect through the simulated PagerDuty's login and
 * consent screens, wait for the first sync, and read the dashboard. The figures on screen must
 * equal the simulator's ground truth.
 */
describe('newcomer walkthrough', () => {
  let seatwise: SeatwiseProcess;
  let launched: LaunchedBrowser;
  let harness: PageHarness;

  beforeAll(async () => {
    seatwise = await startSeatwiseProcess({ SEATWISE_SUPPORT_EMAIL: SUPPORT_EMAIL });
    launched = await launchChromium();
    harness = await openPage(launched, { testName: 'newcomer walkthrough', baseUrl: seatwise.url });
  });

  afterAll(async () => {
    await harness?.close();
    await launched?.close();
    await seatwise?.stop();
  });

  it('connects PagerDuty and shows true numbers', async () => {
    const { page } = harness;
    expect(seatwise.simulatorUrl, 'the demo simulator URL is logged at start').toBeTruthy();
    const simulatorUrl = seatwise.simulatorUrl!;

    // Step 2: on first start a form creates the organization and its owner.
    await page.goto('/');
    await page.getByRole('heading', { name: 'Set up Seatwise' }).waitFor();
    await harness.screenshot('01 setup form');
    await page.getByLabel('Organization name').fill(OWNER.organizationName);
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByRole('button', { name: /create/i }).click();

    // Step 3: the catalog, then the PagerDuty app page with its Connections card.
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await harness.screenshot('02 catalog');
    await page.getByRole('link', { name: /PagerDuty/ }).first().click();
    const connect = page.getByRole('button', { name: 'Connect', exact: true });
    await connect.waitFor();
    await harness.screenshot('03 app page not connected');
    harness.assertNoProblems();

    // Step 4: the simulated PagerDuty's login form, which shows the demo credentials.
    await connect.click();
    await page.waitForURL((url) => url.href.startsWith(simulatorUrl));
    await expect(page.getByText(/Simulated PagerDuty/).first().isVisible()).resolves.toBe(true);
    const demoLogin = await readDemoLogin(page);
    await harness.screenshot('04 simulated PagerDuty login');
    await page.getByLabel('Email').fill(demoLogin.email);
    await page.getByLabel('Password').fill(demoLogin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // The consent screen names Seatwise, the account, the region and the access asked for.
    const authorize = page.getByRole('button', { name: 'Authorize', exact: true });
    await authorize.waitFor();
    await expect(page.getByRole('button', { name: 'Deny', exact: true }).isVisible()).resolves.toBe(true);
    const truthAtConnect = await readGroundTruth(page.request, simulatorUrl);
    const consentText = await page.locator('body').innerText();
    expect(consentText).toContain('Seatwise');
    expect(consentText).toContain(truthAtConnect.account.subdomain);
    expect(consentText).toMatch(/read-only/i);
    await harness.screenshot('05 simulated PagerDuty consent');
    await authorize.click();

    // Step 5: back on the same app page; the card shows the account and reads Reconnect.
    await page.waitForURL((url) => url.href.startsWith(seatwise.url) && url.pathname === '/apps/pagerduty');
    await page.getByRole('button', { name: 'Reconnect', exact: true }).waitFor();
    const card = page.getByRole('region', { name: /connection/i });
    const cardText = await (await card.count() > 0 ? card.first() : page.locator('main')).innerText();
    expect(cardText).toContain(truthAtConnect.account.subdomain);
    expect(cardText).toContain(demoLogin.email);
    expect(cardText).toMatch(/\bread\b/);
    await harness.screenshot('06 connected and syncing');

    await waitForFirstSync(page.request);
    await page.reload();
    await page.getByRole('button', { name: 'Reconnect', exact: true }).waitFor();
    await harness.screenshot('07 connected after first sync');
    harness.assertNoProblems();

    // Step 6: the overview's seats per license equal the ground truth at the crunch instant.
    await page.getByRole('link', { name: 'Overview' }).first().click();
    await page.getByRole('table', { name: /seats/i }).waitFor();
    await page.locator('canvas, svg').first().waitFor();
    await harness.screenshot('08 overview');
    const overview = await getJson<{ computedAt: string; seats: SeatTruth[] }>(page.request, '/api/overview');
    const truth = await readGroundTruth(page.request, simulatorUrl, overview.computedAt);
    expect(sortSeats(overview.seats)).toEqual(sortSeats(truth.seats));
    const seatsTable = await page.getByRole('table', { name: /seats/i }).innerText();
    for (const seat of truth.seats) {
      expect(seatsTable).toContain(seat.licenseName);
    }
    expect(truth.seats.some((seat) => seat.paid !== null && seat.paid > seat.allocated), 'the demo account has paid seats nobody holds').toBe(true);
    expect(truth.seats.some((seat) => seat.neverActive > 0), 'the demo account has seats never used').toBe(true);

    // The people table: every person with the license and last seen of the ground truth.
    await page.getByRole('link', { name: 'People' }).first().click();
    await page.getByRole('table', { name: /people/i }).waitFor();
    await harness.screenshot('09 people');
    const people = await readAllPeople(page.request);
    expect(people).toHaveLength(truth.people.length);
    const licenseNames = new Map(truth.seats.map((seat) => [seat.licenseId, seat.licenseName]));
    const byId = new Map(people.map((person) => [person.externalId, person]));
    for (const expected of truth.people) {
      const actual = byId.get(expected.id);
      expect(actual, `person ${expected.email} is listed`).toBeDefined();
      expect({ email: actual!.email, role: actual!.role, license: actual!.licenseName, lastSeenAt: normalizeInstant(actual!.lastSeenAt), signal: actual!.lastSeenSignal }).toEqual({
        email: expected.email,
        role: expected.role,
        license: licenseNames.get(expected.licenseId) ?? null,
        lastSeenAt: normalizeInstant(expected.lastSeenAt),
        signal: expected.lastSeenSignal,
      });
    }
    // The API sends what the presenter computes beyond the ground truth's fields.
    expect(people.every((person) => Array.isArray(person.teams)), 'every row lists its teams').toBe(true);
    expect(people.some((person) => person.teams.length > 0), 'some people belong to teams').toBe(true);
    expect(people.some((person) => person.recommendation?.kind === 'reclaim_seat'), 'an unused seat is recommended for reclaim').toBe(true);

    const firstPageText = await page.getByRole('table', { name: /people/i }).innerText();
    const shown = people.filter((person) => firstPageText.includes(person.email));
    expect(shown.length, 'the people table shows rows of synced people').toBeGreaterThan(0);
    harness.assertNoProblems();
  }, WALKTHROUGH_TIMEOUT_MS);
});

/** Reads the demo credentials the simulated login page displays, as a newcomer would. */
async function readDemoLogin(page: Page): Promise<{ email: string; password: string }> {
  const hint = await page.getByText(/Demo account owner/).first().innerText();
  const match = /owner:\s*(\S+@\S+?),\s*password\s+(\S+)/.exec(hint);
  if (!match) throw new Error(`The simulated login page does not show the demo credentials: ${hint}`);
  return { email: match[1]!, password: match[2]! };
}

async function readGroundTruth(request: APIRequestContext, simulatorUrl: string, asOf?: string): Promise<GroundTruth> {
  const query = asOf ? `?as_of=${encodeURIComponent(asOf)}` : '';
  return getJson<GroundTruth>(request, `${simulatorUrl}/__simulator/ground-truth${query}`);
}

async function waitForFirstSync(request: APIRequestContext): Promise<void> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  let card: { state: string; lastSyncAt: string | null; statusReason: string | null } | undefined;
  while (Date.now() < deadline) {
    card = await getJson<{ state: string; lastSyncAt: string | null; statusReason: string | null }>(request, '/api/apps/pagerduty/card');
    if (card.state === 'connected' && card.lastSyncAt !== null) return;
    if (card.state === 'error' || card.state === 'needs_reconnect') {
      throw new Error(`The first sync ended in ${card.state}: ${card.statusReason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`The first sync did not finish within ${SYNC_TIMEOUT_MS} ms; last card: ${JSON.stringify(card)}`);
}

async function readAllPeople(request: APIRequestContext): Promise<PeopleRow[]> {
  const rows: PeopleRow[] = [];
  for (let page = 1; page < 1000; page += 1) {
    const view = await getJson<{ rows: PeopleRow[]; total: number; pageSize: number }>(request, `/api/people?page=${page}&pageSize=100&sort=email`);
    rows.push(...view.rows);
    if (rows.length >= view.total || view.rows.length === 0) break;
  }
  return rows;
}

async function getJson<T>(request: APIRequestContext, url: string): Promise<T> {
  const response = await request.get(url);
  if (!response.ok()) throw new Error(`GET ${url} returned HTTP ${response.status()}: ${await response.text()}`);
  return (await response.json()) as T;
}

function sortSeats(seats: SeatTruth[]): SeatTruth[] {
  return seats
    .map((seat) => ({
      licenseId: seat.licenseId,
      licenseName: seat.licenseName,
      roleGroup: seat.roleGroup,
      paid: seat.paid,
      allocated: seat.allocated,
      active30d: seat.active30d,
      active90d: seat.active90d,
      neverActive: seat.neverActive,
    }))
    .sort((a, b) => a.licenseId.localeCompare(b.licenseId));
}

function normalizeInstant(value: string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}
