import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, PHONE_VIEWPORT, type LaunchedBrowser, type PageHarness } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

const OWNER = { organizationName: 'Acme Corp', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery staple' };
/** A person name that would run script if any page rendered it as HTML. */
const MARKUP_NAME = '<img src=x onerror="window.__injected=1">Mallory <b>Bold</b>';
const SYNC_TIMEOUT_MS = 60_000;
/** Tests that wait for a whole sync get room beyond the sync wait itself on a busy machine. */
const SYNC_TEST_TIMEOUT_MS = 150_000;

let stack: SeatwiseStack;
let chromium: LaunchedBrowser;

beforeAll(async () => {
  stack = await startStack();
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

async function expectAccessible(page: Page): Promise<void> {
  const violations = await findAccessibilityViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

/** Signs in through PagerDuty's (the simulator's) login and consent pages and chooses `decision`. */
async function completePagerDutyConsent(page: Page, decision: 'Authorize' | 'Deny'): Promise<void> {
  await page.getByLabel('Email').fill(stack.simulator.login.email);
  await page.getByLabel('Password').fill(stack.simulator.login.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: decision }).click();
}

describe('dashboard in Chromium', () => {
  // The steps build on each other: setup creates the owner, connecting feeds the later pages.
  let harness: PageHarness;

  beforeAll(async () => {
    harness = await openPage(chromium, { testName: 'dashboard walkthrough', baseUrl: stack.baseUrl });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('setup creates organization and owner', async () => {
    const { page } = harness;
    await page.goto('/');
    await page.waitForURL('**/setup');
    await expect(page.getByRole('heading', { name: 'Set up Seatwise' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page);
    await harness.screenshot('setup');

    await page.getByRole('button', { name: 'Create organization' }).click();
    await expect(page.getByText('Enter the name of your organization.').isVisible()).resolves.toBe(true);

    await page.getByLabel('Organization name').fill(OWNER.organizationName);
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create organization' }).click();

    await page.waitForURL('**/catalog');
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await expect(page.getByText('Demo: simulated PagerDuty').isVisible()).resolves.toBe(true);
    await page.getByRole('list', { name: 'Apps' }).getByText('Not connected', { exact: true }).waitFor();
    await expectAccessible(page);
    await harness.screenshot('catalog not connected');
    harness.assertNoProblems();
  });

  it('deny at PagerDuty shows alert', async () => {
    const { page } = harness;
    await page.getByRole('link', { name: 'PagerDuty' }).first().click();
    await page.getByRole('heading', { name: 'PagerDuty', level: 1 }).waitFor();
    const connect = page.getByRole('button', { name: 'Connect' });
    await expect(connect.isVisible()).resolves.toBe(true);
    await expectAccessible(page);
    await harness.screenshot('card not connected');

    await connect.click();
    await completePagerDutyConsent(page, 'Deny');
    await page.waitForURL('**/apps/pagerduty**');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('Deny');
    await expect(alert.getByRole('link', { name: stack.supportEmail }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Connect' }).isVisible()).resolves.toBe(true);
    expect(new URL(page.url()).search).toBe('');
    await expectAccessible(page);
    await harness.screenshot('card access denied');
    harness.assertNoProblems();
  });

  it('connect shows account and syncs', async () => {
    const { page } = harness;
    await page.getByRole('button', { name: 'Connect' }).click();
    await completePagerDutyConsent(page, 'Authorize');
    await page.waitForURL('**/apps/pagerduty**');

    const notice = page.getByRole('status').filter({ hasText: /connected/i });
    await notice.waitFor();
    await expect(page.getByRole('button', { name: 'Reconnect' }).isVisible()).resolves.toBe(true);
    const details = page.getByRole('definition');
    await expect(details.filter({ hasText: `${stack.simulator.account.subdomain}.pagerduty.com` }).count()).resolves.toBe(1);
    await harness.screenshot('card connected');

    // The first sync starts on connect; wait until the card reports a finished run.
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });
    await page.getByRole('table', { name: 'Recent syncs' }).waitFor();
    await expect(page.getByRole('table', { name: 'Recent syncs' }).getByRole('row').count()).resolves.toBeGreaterThan(1);
    await expectAccessible(page);
    await harness.screenshot('card synced');
    harness.assertNoProblems();
  }, SYNC_TEST_TIMEOUT_MS);

  it('overview shows seats by license', async () => {
    const { page } = harness;
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: 'Seats by license' });
    await table.waitFor();
    const overview = (await page.evaluate(async () => (await fetch('/api/overview')).json())) as { seats: { licenseName: string }[] };
    expect(overview.seats.length).toBeGreaterThan(0);
    // One row per license plus the totals row.
    await expect(table.getByRole('rowheader').count()).resolves.toBe(overview.seats.length + 1);
    for (const seat of overview.seats) {
      await expect(table.getByRole('rowheader', { name: seat.licenseName, exact: true }).count()).resolves.toBe(1);
    }
    await page.locator('.chart canvas').first().waitFor();
    // Times show in the viewer's zone and name the UTC instant on hover.
    await expect(page.locator('main time').first().getAttribute('title')).resolves.toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    await expectAccessible(page);
    await harness.screenshot('overview');
    harness.assertNoProblems();
  });

  it('overview shows savings, trend, freshness', async () => {
    const { page } = harness;
    const overview = (await page.evaluate(async () => (await fetch('/api/overview')).json())) as {
      savings: { currency: string | null; byKind: { kind: string; openCount: number }[] };
      weeklyActivity: { weekStarts: string[]; series: { featureName: string; activePeople: number[] }[] };
      freshness: { connectionStatus: string; lastSuccessfulSyncAt: string | null };
      confidence: { availableCount: number; signals: { signal: string }[] };
    };

    // No contract prices are entered yet, so the savings card counts recommendations only.
    expect(overview.savings.currency).toBeNull();
    const savings = page.getByRole('region', { name: 'Potential yearly savings' });
    await expect(savings.getByText('No contract prices are entered').isVisible()).resolves.toBe(true);
    const kinds = savings.getByRole('list', { name: 'Savings by recommendation kind' }).getByRole('listitem');
    await expect(kinds.count()).resolves.toBe(overview.savings.byKind.length);
    for (const [index, kind] of overview.savings.byKind.entries()) {
      await expect(kinds.nth(index).locator('.tile-value').textContent()).resolves.toBe(new Intl.NumberFormat('en-US').format(kind.openCount));
    }

    // The weekly chart draws, and its table lists every week and feature of the API.
    expect(overview.weeklyActivity.series.length).toBeGreaterThan(0);
    const weekly = page.getByRole('region', { name: 'Weekly active people per feature', exact: true });
    await weekly.locator('.chart canvas').waitFor();
    await weekly.getByText('Show the figures as a table').click();
    const weeklyTable = weekly.getByRole('table', { name: 'Weekly active people per feature' });
    await expect(weeklyTable.getByRole('rowheader').count()).resolves.toBe(overview.weeklyActivity.weekStarts.length);
    await expect(weeklyTable.getByRole('columnheader').count()).resolves.toBe(overview.weeklyActivity.series.length + 1);
    const firstSeries = overview.weeklyActivity.series[0];
    if (firstSeries === undefined) throw new Error('unreachable: series is not empty');
    const firstColumn = await weeklyTable.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(firstColumn).toEqual(firstSeries.activePeople.map((value) => new Intl.NumberFormat('en-US').format(value)));

    // Freshness names the connection and links to the PagerDuty app page.
    expect(overview.freshness.connectionStatus).toBe('connected');
    expect(overview.freshness.lastSuccessfulSyncAt).not.toBeNull();
    const freshness = page.getByRole('region', { name: 'Data freshness' });
    await expect(freshness.getByText('Connected', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(freshness.locator('time').first().getAttribute('title')).resolves.toMatch(/ UTC$/);
    await expect(freshness.getByRole('link', { name: 'Open the PagerDuty app page' }).getAttribute('href')).resolves.toBe('/apps/pagerduty');

    const confidence = page.getByRole('region', { name: 'Confidence' });
    await expect(confidence.getByText(`${overview.confidence.availableCount} of ${overview.confidence.signals.length} signals available.`).isVisible()).resolves.toBe(true);
    await expect(confidence.getByRole('list', { name: 'Signals' }).getByRole('listitem').count()).resolves.toBe(overview.confidence.signals.length);
    await expect(confidence.getByText('On-call shift', { exact: true }).isVisible()).resolves.toBe(true);

    await expectAccessible(page);
    await harness.screenshot('overview with table');

    // The tile's link lists exactly the people the tile counts.
    const overviewTotals = (await page.evaluate(async () => (await fetch('/api/overview')).json())) as { totals: { allocated: number; active90d: number } };
    const inactive = overviewTotals.totals.allocated - overviewTotals.totals.active90d;
    await page.getByRole('list', { name: 'Totals' }).getByRole('listitem').filter({ hasText: 'Not active in 90 days' }).getByRole('link', { name: 'See who' }).click();
    await page.waitForURL((url) => url.pathname === '/people' && url.searchParams.get('activity') === 'inactive90d' && url.searchParams.get('seat') === 'allocated');
    await page.getByRole('status').filter({ hasText: inactive === 0 ? 'No people match these filters.' : `of ${inactive} people` }).waitFor();
    await expect(page.getByLabel('Seat').inputValue()).resolves.toBe('allocated');
    harness.assertNoProblems();
  });

  it('people search, filter, sort, page', async () => {
    const { page } = harness;
    await page.getByRole('link', { name: 'People' }).click();
    const table = page.getByRole('table', { name: 'People' });
    await table.waitFor();
    // The count arrives with the first page of rows, so wait for it rather than read it once.
    await page.getByRole('status').filter({ hasText: 'of 40 people' }).waitFor();
    await expectAccessible(page);
    await harness.screenshot('people');

    await page.getByLabel('Rows per page').selectOption('25');
    await page.getByText('Showing 1–25 of 40 people').waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Showing 26–40 of 40 people').waitFor();
    expect(new URL(page.url()).searchParams.get('page')).toBe('2');

    await page.getByRole('button', { name: 'Name' }).click();
    await page.waitForURL(/direction=desc/);
    await expect(page.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).resolves.toBe('descending');

    const firstName = (await table.getByRole('rowheader').first().textContent()) ?? '';
    await page.getByLabel('Search').fill(firstName.slice(0, 6));
    await page.waitForURL(/search=/);
    await expect(table.getByRole('rowheader').filter({ hasText: firstName }).count()).resolves.toBeGreaterThan(0);

    await page.getByLabel('Search').fill('');
    await page.waitForURL((url) => !url.searchParams.has('search'));
    const licenseOptions = await page.getByLabel('License').locator('option').allTextContents();
    expect(licenseOptions.length).toBeGreaterThan(1);
    const license = licenseOptions[1] ?? '';
    await Promise.all([
      page.waitForResponse((response) => response.url().includes('/api/people?') && new URL(response.url()).searchParams.get('license') === license),
      page.getByLabel('License').selectOption({ label: license }),
    ]);
    await page.waitForURL(/license=/);
    await page.locator('table[aria-busy="false"]').waitFor();
    const shownLicenses = await table.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(new Set(shownLicenses)).toEqual(new Set([license]));
    await harness.screenshot('people filtered');

    // The export holds every person matching the filter, not only this page.
    const status = (await page.getByRole('status').filter({ hasText: 'people' }).textContent()) ?? '';
    const matching = Number(/of (\d+) people/.exec(status)?.[1]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Export \d+ as CSV$/ }).click()]);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('Name,Email,Role,License,Teams,Last seen (UTC),Last seen signal,Recommendation,Removed from PagerDuty,"Invited, never signed up"');
    expect(lines.length - 1).toBe(matching);
    harness.assertNoProblems();
  });

  it('people filters survive a reload', async () => {
    const { page } = harness;
    await page.goto('/people');
    const table = page.getByRole('table', { name: 'People' });
    await table.waitFor();
    const teamOptions = await page
      .getByLabel('Team')
      .locator('option')
      .evaluateAll((options) => options.map((option) => ({ value: (option as HTMLOptionElement).value, label: option.textContent ?? '' })));
    expect(teamOptions.map((option) => option.label).slice(0, 2)).toEqual(['All teams', 'No team']);
    const namedTeams = teamOptions.filter((option) => option.value.startsWith('team:'));
    expect(namedTeams.length).toBeGreaterThan(0);
    const team = namedTeams[0]?.label ?? '';

    await page.getByLabel('Team').selectOption({ label: 'No team' });
    await page.waitForURL((url) => url.searchParams.get('noTeam') === 'true');
    await page.locator('table[aria-busy="false"]').waitFor();
    const withoutTeam = (await page.evaluate(async () => (await fetch('/api/people?noTeam=true')).json())) as { total: number };
    const withoutTeamText = withoutTeam.total === 0 ? 'No people match these filters.' : `of ${withoutTeam.total} people`;
    await page.getByRole('status').filter({ hasText: withoutTeamText }).waitFor();

    // A link that names a team and "No team" lists the people in no team, as the select shows.
    await page.goto(`/people?${new URLSearchParams({ team, noTeam: 'true' }).toString()}`);
    await page.locator('table[aria-busy="false"]').waitFor();
    await page.getByRole('status').filter({ hasText: withoutTeamText }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await expect(page.getByLabel('Team').inputValue()).resolves.toBe('none');

    await page.getByLabel('Team').selectOption({ label: team });
    await page.waitForURL((url) => url.searchParams.get('team') === team);
    await page.getByLabel('Activity').selectOption('inactive30d');
    await page.waitForURL((url) => url.searchParams.get('activity') === 'inactive30d');
    await page.getByLabel('Recommendation').selectOption('none');
    await page.waitForURL((url) => url.searchParams.get('recommendation') === 'none');
    await page.locator('table[aria-busy="false"]').waitFor();

    const query = new URL(page.url()).search;
    const expected = (await page.evaluate(async (search) => (await fetch(`/api/people${search}`)).json(), query)) as { total: number; rows: { name: string }[] };
    const status = page.getByRole('status').filter({ hasText: /people|No people/ });
    const statusText = expected.total === 0 ? 'No people match these filters.' : `of ${expected.total} people`;
    await status.filter({ hasText: statusText }).waitFor();
    const shownNames = await table.getByRole('rowheader').allTextContents();
    expect(shownNames).toEqual(expected.rows.map((row) => row.name));
    // Roles and signals read as PagerDuty names them, not as identifiers with the underscores dropped.
    const tableText = (await table.textContent()) ?? '';
    expect(tableText).not.toMatch(/On call shift|Read only user|Limited user/);
    await harness.screenshot('people three filters');

    await page.reload();
    await table.waitFor();
    await expect(page.getByLabel('Team').inputValue()).resolves.toBe(`team:${team}`);
    await expect(page.getByLabel('Activity').inputValue()).resolves.toBe('inactive30d');
    await expect(page.getByLabel('Recommendation').inputValue()).resolves.toBe('none');
    await status.filter({ hasText: statusText }).waitFor();
    await expect(table.getByRole('rowheader').allTextContents()).resolves.toEqual(shownNames);
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL((url) => !url.searchParams.has('team') && !url.searchParams.has('activity') && !url.searchParams.has('recommendation'));
    await page.getByText('of 40 people').waitFor();
    harness.assertNoProblems();
  });

  it('people link with unknown filter explains', async () => {
    const { page } = harness;
    await page.goto('/people?activity=lately');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('"lately"');
    await expect(alert.textContent()).resolves.toContain('activity must be one of');
    await expectAccessible(page);
    await harness.screenshot('people unknown filter');
    harness.assertNoProblems();
  });

  it('person page shows evidence', async () => {
    const { page } = harness;
    await page.goto('/people?sort=lastSeen&direction=desc');
    const firstPerson = page.getByRole('table', { name: 'People' }).getByRole('rowheader').first().getByRole('link');
    const name = (await firstPerson.textContent()) ?? '';
    await firstPerson.click();
    await page.waitForURL(/\/people\/[^/?]+$/);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    await expect(page.getByRole('heading', { name: 'On-call coverage' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: 'Recommendation', exact: true }).isVisible()).resolves.toBe(true);
    // The most recently seen person has used at least one feature.
    await expect(page.getByRole('table', { name: 'Features used' }).getByRole('row').count()).resolves.toBeGreaterThan(1);
    await expectAccessible(page);
    await harness.screenshot('person');

    await page.goto('/people/PNOSUCHID');
    await page.getByRole('alert').waitFor();
    await expect(page.getByRole('heading', { name: 'Person', level: 1 }).isVisible()).resolves.toBe(true);
    harness.problems.length = 0; // The 404 of the unknown person is the case under test.
  });

  it('features page shows adoption', async () => {
    const { page } = harness;
    await page.getByRole('link', { name: 'Features', exact: true }).click();
    const table = page.getByRole('table', { name: 'Feature adoption' });
    await table.waitFor();
    await expect(table.getByRole('rowheader').count()).resolves.toBeGreaterThan(0);
    await expect(page.getByRole('table', { name: 'Account features' }).isVisible()).resolves.toBe(true);
    await page.locator('.chart canvas').first().waitFor();

    const view = (await page.evaluate(async () => (await fetch('/api/features')).json())) as {
      teamFeatureUse: { teams: { team: string; memberCount: number }[]; features: { key: string; name: string }[]; cells: { team: string; featureKey: string; activePeople: number }[] };
    };
    const heatmap = page.getByRole('table', { name: 'Feature use by team in the last 30 days' });
    await expect(heatmap.getByRole('rowheader').count()).resolves.toBe(view.teamFeatureUse.teams.length);
    await expect(heatmap.getByRole('columnheader').count()).resolves.toBe(view.teamFeatureUse.features.length + 1);
    const busiest = [...view.teamFeatureUse.cells].sort((left, right) => right.activePeople - left.activePeople)[0];
    if (busiest === undefined) throw new Error('No team used a feature in the last 30 days');
    const rowIndex = view.teamFeatureUse.teams.findIndex((team) => team.team === busiest.team);
    const columnIndex = view.teamFeatureUse.features.findIndex((feature) => feature.key === busiest.featureKey);
    const cell = heatmap.locator('tbody tr').nth(rowIndex).locator('td').nth(columnIndex);
    await expect(cell.textContent()).resolves.toMatch(new RegExp(`^${busiest.activePeople}\\d+%$`));
    await expectAccessible(page);
    await harness.screenshot('features');
    harness.assertNoProblems();
  });

  it('recommendations page groups by kind', async () => {
    const { page } = harness;
    await page.getByRole('link', { name: 'Recommendations' }).click();
    await page.getByRole('heading', { name: 'Recommendations', level: 1 }).waitFor();
    const view = (await page.evaluate(async () => (await fetch('/api/recommendations')).json())) as { rows: { kind: string; name: string }[] };
    if (view.rows.length === 0) {
      await page.getByRole('heading', { name: 'No recommendations' }).waitFor();
    } else {
      await page.getByRole('button', { name: /^Export \d+ as CSV$/ }).waitFor();
      const kinds = new Set(view.rows.map((row) => row.kind));
      await expect(page.locator('main table').count()).resolves.toBe(kinds.size);
      const first = view.rows[0];
      if (first === undefined) throw new Error('unreachable: rows is not empty');
      await expect(page.getByRole('link', { name: first.name, exact: true }).first().isVisible()).resolves.toBe(true);

      await page.getByRole('button', { name: `Exempt ${first.name}` }).first().click();
      await page.getByRole('status').filter({ hasText: `${first.name} is exempt.` }).waitFor();
    }
    await expectAccessible(page);
    await harness.screenshot('recommendations');
    harness.assertNoProblems();
  });

  it('settings save contract and exemption', async () => {
    const { page } = harness;
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    const prices = page.getByRole('table', { name: 'Prices per license' });
    await prices.waitFor();
    const licenseNames = await prices.getByRole('rowheader').allTextContents();
    expect(licenseNames.length).toBeGreaterThan(0);
    await expectAccessible(page);
    await harness.screenshot('settings');

    for (const name of licenseNames) await page.getByLabel(`Price per seat of ${name}`).fill('41.50');
    await page.getByLabel('Currency').fill('EUR');
    await page.getByRole('button', { name: 'Save contract' }).click();
    await page.getByRole('status').filter({ hasText: 'Contract saved.' }).waitFor();
    const saved = (await page.evaluate(async () => (await fetch('/api/settings')).json())) as { contract: { currency: string; lines: { pricePerSeatMinor: number }[] } | null };
    expect(saved.contract?.currency).toBe('EUR');
    expect(saved.contract?.lines.map((line) => line.pricePerSeatMinor)).toEqual(licenseNames.map(() => 4150));

    await page.getByRole('button', { name: 'Add exemption' }).click();
    await expect(page.getByText('Enter the email address of the person to exempt.').isVisible()).resolves.toBe(true);
    await page.getByLabel('Email', { exact: true }).fill('exec@acme.test');
    await page.getByLabel('Reason (optional)').fill('Executive escalation');
    await page.getByRole('button', { name: 'Add exemption' }).click();
    await page.getByRole('list', { name: 'Exempt people' }).getByText('exec@acme.test').waitFor();
    await page.getByRole('button', { name: 'Remove exemption of exec@acme.test' }).click();
    await page.getByRole('status').filter({ hasText: 'exec@acme.test is no longer exempt.' }).waitFor();
    await expect(page.getByRole('list', { name: 'Exempt people' }).getByText('exec@acme.test').count()).resolves.toBe(0);
    await harness.screenshot('settings saved');
    harness.assertNoProblems();
  });

  it('person named with markup stays text', async () => {
    const { page } = harness;
    // The crunch copies names from PagerDuty's users into `people`; the page reads them from there.
    const person = await stack.database.db.selectFrom('people').select(['connection_id', 'external_id']).orderBy('name').limit(1).executeTakeFirstOrThrow();
    await stack.database.db
      .updateTable('people')
      .set({ name: MARKUP_NAME })
      .where('connection_id', '=', person.connection_id)
      .where('external_id', '=', person.external_id)
      .execute();

    await page.goto(`/people?search=${encodeURIComponent('Mallory')}`);
    const cell = page.getByRole('table', { name: 'People' }).getByRole('rowheader').first();
    await cell.waitFor();
    await expect(cell.textContent()).resolves.toContain(MARKUP_NAME);
    await expect(page.locator('main img').count()).resolves.toBe(0);
    await expect(page.locator('main b').count()).resolves.toBe(0);
    await expect(page.evaluate('window.__injected')).resolves.toBeUndefined();
    await harness.screenshot('people markup name');
    harness.assertNoProblems();
  });

  it('sign out and back in', async () => {
    const { page } = harness;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await expectAccessible(page);
    await harness.screenshot('sign in failed');

    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/catalog');
    await page.getByRole('list', { name: 'Apps' }).getByText(/^(Connected|Syncing)$/).waitFor();
    harness.assertNoProblems();
  });

  it('figures follow viewer locale and zone', async () => {
    const german = await openPage(chromium, { testName: 'dashboard german', baseUrl: stack.baseUrl, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    try {
      const { page } = german;
      await page.goto('/sign-in');
      await page.getByLabel('Email').fill(OWNER.email);
      await page.getByLabel('Password').fill(OWNER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/catalog');

      await page.goto('/features');
      const heatmap = page.getByRole('table', { name: 'Feature use by team in the last 30 days' });
      await heatmap.waitFor();
      const shares = await heatmap.locator('.heat-share').allTextContents();
      expect(shares.length).toBeGreaterThan(0);
      // German puts a no-break space before the percent sign.
      for (const share of shares) expect(share).toMatch(/^\d+\u00a0%$/);

      await page.goto('/overview');
      const overview = (await page.evaluate(async () => (await fetch('/api/overview')).json())) as { computedAt: string };
      const computed = page.getByRole('region', { name: 'Data freshness' }).locator(`time[datetime="${overview.computedAt}"]`);
      const berlinTime = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' }).format(new Date(overview.computedAt));
      await expect(computed.textContent()).resolves.toBe(berlinTime);
      await expect(computed.getAttribute('title')).resolves.toBe(`${overview.computedAt.slice(0, 19).replace('T', ' ')} UTC`);
      await expectAccessible(page);
      await german.screenshot('overview');
      german.assertNoProblems();
    } finally {
      await german.close();
    }
  });

  it('pages fit a phone screen', async () => {
    const phone = await openPage(chromium, { testName: 'dashboard phone', baseUrl: stack.baseUrl, viewport: PHONE_VIEWPORT });
    try {
      await phone.page.goto('/sign-in');
      await phone.page.getByLabel('Email').fill(OWNER.email);
      await phone.page.getByLabel('Password').fill(OWNER.password);
      await phone.page.getByRole('button', { name: 'Sign in' }).click();
      await phone.page.waitForURL('**/catalog');

      const person = await stack.database.db.selectFrom('people').select('external_id').orderBy('last_seen_at', 'desc').limit(1).executeTakeFirstOrThrow();
      for (const path of ['/catalog', '/apps/pagerduty', '/overview', '/people', `/people/${person.external_id}`, '/features', '/recommendations', '/settings']) {
        await phone.page.goto(path);
        await phone.page.locator('main h1').waitFor();
        await phone.page.waitForLoadState('networkidle');
        const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${path} scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
        await expectAccessible(phone.page);
        await phone.screenshot(path.startsWith('/people/') ? 'person' : path.slice(1).replaceAll('/', '-'));
      }
      phone.assertNoProblems();
    } finally {
      await phone.close();
    }
  }, SYNC_TEST_TIMEOUT_MS);
});
