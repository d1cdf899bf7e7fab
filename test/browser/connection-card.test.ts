import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nextScheduledSync } from '../../src/sync/schedule.ts';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, PHONE_VIEWPORT, type LaunchedBrowser, type PageHarness } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The Connections card in each state, with the simulator driven into it: a refused token
 * exchange, a sync in progress, a revoked token, a token of a PagerDuty user who is no admin,
 * and an account whose plan lacks features.
 */

const OWNER = { organizationName: 'Card Test Org', name: 'Casey Owner', email: 'casey@cards.test', password: 'correct horse battery staple' };
const SYNC_TIMEOUT_MS = 60_000;
/** Tests that wait for a whole sync get room beyond the sync wait itself on a busy machine. */
const SYNC_TEST_TIMEOUT_MS = 150_000;
/** Slows every simulator response so a sync stays visibly in progress. */
const SLOW_SIMULATOR_LATENCY_MS = 400;

let stack: SeatwiseStack;
let chromium: LaunchedBrowser;
let harness: PageHarness;

beforeAll(async () => {
  stack = await startStack();
  chromium = await launchChromium();
  const setup = await openPage(chromium, { testName: 'card setup', baseUrl: stack.baseUrl });
  try {
    await setUpOwner(setup.page);
  } finally {
    await setup.close();
  }
});

afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

async function setUpOwner(page: Page): Promise<void> {
  await page.goto('/setup');
  await page.getByLabel('Organization name').fill(OWNER.organizationName);
  await page.getByLabel('Your name').fill(OWNER.name);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.waitForURL('**/catalog');
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/catalog');
  await page.goto('/apps/pagerduty');
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
}

async function consentAtPagerDuty(page: Page, email: string, password = stack.simulator.login.password): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL('**/apps/pagerduty**');
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
}

async function waitForIdleConnected(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });
}

/** Returns the value beside `term` in the list of the connected account's details. */
function accountDetail(page: Page, term: string): Locator {
  return page.locator(`dl[aria-label="Connected PagerDuty account"] dt:text-is("${term}") + dd`);
}

/**
 * Checks the "Next sync" line: the next run of the hourly or daily schedule, in the viewer's
 * time zone with UTC in the hover title.
 */
async function expectNextScheduledSync(page: Page): Promise<void> {
  const before = nextScheduledSync(new Date());
  const nextSync = accountDetail(page, 'Next sync');
  const time = nextSync.locator('time');
  const shownAt = await time.getAttribute('datetime');
  const after = nextScheduledSync(new Date());
  // The page may have been read on either side of a schedule's instant.
  const expected = [before, after].find((scheduled) => scheduled.at.toISOString() === shownAt);
  expect(expected, `Next sync shows ${String(shownAt)}, expected ${before.at.toISOString()} or ${after.at.toISOString()}`).toBeDefined();
  const kindText = expected?.kind === 'full' ? 'full roster' : 'incremental';
  await expect(nextSync.textContent()).resolves.toContain(kindText);
  await expect(time.getAttribute('title')).resolves.toBe(`${shownAt?.slice(0, 19).replace('T', ' ')} UTC`);
}

/** The position of the Trigger column in the history table, counted from 1. */
const TRIGGER_COLUMN = 5;

/** Returns the history row of the newest finished run with this trigger, e.g. "Connect". */
function historyRow(page: Page, trigger: string): Locator {
  return page
    .getByRole('table', { name: 'Recent syncs' })
    .locator('tbody > tr:not(.run-streams-row)')
    .filter({ has: page.locator(`td:nth-child(${TRIGGER_COLUMN}):text-is("${trigger}")`) })
    .first();
}

interface OpenRun {
  runId: string;
  streams: Locator;
}

/** Opens the streams of a history row with the keyboard and returns the run's id and its streams table. */
async function openRunStreams(page: Page, row: Locator): Promise<OpenRun> {
  const toggle = row.getByRole('button', { name: /^Streams of the / });
  await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('false');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('true');

  const name = await toggle.getAttribute('aria-label');
  const controls = await toggle.getAttribute('aria-controls');
  if (name === null || controls === null) throw new Error('The run toggle lacks aria-label or aria-controls');
  const details = page.locator(`#${controls}`);
  await details.waitFor();
  return { runId: controls.replace(/^run-streams-/, ''), streams: details.getByRole('table', { name, exact: true }) };
}

function streamRow(streams: Locator, label: string): Locator {
  return streams.locator('tbody tr').filter({ has: streams.page().getByRole('rowheader', { name: label, exact: true }) });
}

interface StoredStream {
  records: number;
  started_at: Date | null;
  finished_at: Date | null;
}

/** Reads one stream of one run from the database, the oracle for the history's streams table. */
async function storedStream(database: SeatwiseStack['database'], syncRunId: string, stream: string): Promise<StoredStream> {
  return database.db
    .selectFrom('sync_run_streams')
    .select(['records', 'started_at', 'finished_at'])
    .where('sync_run_id', '=', syncRunId)
    .where('stream', '=', stream)
    .executeTakeFirstOrThrow();
}

/** Formats a stored stream's duration as the card does in en-US, e.g. "under 1 s", "3 s" or "1 min 5 s". */
function expectedDuration(stream: StoredStream): string {
  if (stream.started_at === null || stream.finished_at === null) return '–';
  const milliseconds = stream.finished_at.getTime() - stream.started_at.getTime();
  if (milliseconds < 500) return 'under 1 s';
  const totalSeconds = Math.round(milliseconds / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  return minutes === 0 ? `${totalSeconds} s` : `${minutes.toLocaleString('en-US')} min ${totalSeconds % 60} s`;
}

/** Checks one stream of an open run against the database: its outcome, records and duration. */
async function expectStreamRow(run: OpenRun, database: SeatwiseStack['database'], stream: { name: string; label: string; outcome: string }): Promise<Locator> {
  const row = streamRow(run.streams, stream.label);
  const stored = await storedStream(database, run.runId, stream.name);
  await expect(row.locator('td[data-label="Outcome"] .stream-outcome').textContent()).resolves.toBe(stream.outcome);
  await expect(row.locator('td[data-label="Records"]').textContent()).resolves.toBe(stored.records.toLocaleString('en-US'));
  await expect(row.locator('td[data-label="Duration"]').textContent()).resolves.toBe(expectedDuration(stored));
  return row;
}

async function expectAccessible(page: Page): Promise<void> {
  const violations = await findAccessibilityViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

describe('connections card states', () => {
  beforeEach(async (context) => {
    harness = await openPage(chromium, { testName: `card ${context.task.name}`, baseUrl: stack.baseUrl });
    await signIn(harness.page);
  });

  afterEach(async () => {
    stack.simulator.control.setLatency(0);
    await harness?.close();
  });

  it('invite admin sends a link', async () => {
    const { page } = harness;
    await page.getByRole('button', { name: 'Invite your PagerDuty admin' }).click();
    await page.getByRole('button', { name: 'Send invite' }).click();
    await expect(page.getByText('Enter the email address of your PagerDuty admin').isVisible()).resolves.toBe(true);

    await page.getByLabel("Admin's email").fill('pd-admin@cards.test');
    await page.getByLabel('Note (optional)').fill('Please connect PagerDuty so we can plan the renewal.');
    await page.getByRole('button', { name: 'Send invite' }).click();
    await page.getByRole('status').filter({ hasText: 'Invite sent to pd-admin@cards.test' }).waitFor();
    await expect(page.getByRole('list', { name: 'Invites sent' }).textContent()).resolves.toContain('pd-admin@cards.test');
    await expectAccessible(page);
    await harness.screenshot('invite sent');
    harness.assertNoProblems();
  });

  it('refused token exchange shows alert', async () => {
    const { page } = harness;
    stack.simulator.control.failNextTokenExchange();
    await page.getByRole('button', { name: 'Connect' }).click();
    await consentAtPagerDuty(page, stack.simulator.login.email);

    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.getByRole('link', { name: stack.supportEmail }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Connect' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page);
    await harness.screenshot('token exchange failed');
    harness.assertNoProblems();
  });

  it('sync in progress shows streams', async () => {
    const { page } = harness;
    stack.simulator.control.setLatency(SLOW_SIMULATOR_LATENCY_MS);
    await page.getByRole('button', { name: 'Connect' }).click();
    await consentAtPagerDuty(page, stack.simulator.login.email);

    await page.getByRole('heading', { name: /^Sync (queued|running)/ }).waitFor({ timeout: SYNC_TIMEOUT_MS });
    await page.getByRole('progressbar').first().waitFor();
    await expect(page.getByText('Syncing', { exact: true }).isVisible()).resolves.toBe(true);
    await expectAccessible(page);
    await harness.screenshot('syncing');

    // The card refreshes by itself: the record counts grow without a reload.
    const before = await page.locator('.stream-status').allTextContents();
    await expect.poll(async () => (await page.locator('.stream-status').allTextContents()).join('|'), { timeout: SYNC_TIMEOUT_MS }).not.toBe(before.join('|'));

    stack.simulator.control.setLatency(0);
    await waitForIdleConnected(page);
    await expect(page.getByRole('button', { name: 'Reconnect' }).isVisible()).resolves.toBe(true);
    await expectNextScheduledSync(page);

    // The finished run lists each stream with its outcome, records and duration.
    const run = await openRunStreams(page, historyRow(page, 'Connect'));
    await expectStreamRow(run, stack.database, { name: 'users', label: 'Users', outcome: 'Succeeded' });
    await expectStreamRow(run, stack.database, { name: 'log_entries', label: 'Log entries', outcome: 'Succeeded' });
    await expectAccessible(page);
    await harness.screenshot('connected');
    harness.assertNoProblems();
  }, SYNC_TEST_TIMEOUT_MS);

  it('revoked token needs reconnect', async () => {
    const { page } = harness;
    await waitForIdleConnected(page);
    const runsBefore = await page.getByRole('table', { name: 'Recent syncs' }).getByRole('row').count();

    stack.simulator.control.revokeAllTokens();
    stack.simulator.control.expireAccessTokens();
    await page.getByRole('button', { name: 'Sync now' }).click();

    await page.getByText('Seatwise can no longer read PagerDuty').waitFor({ timeout: SYNC_TIMEOUT_MS });
    await expect(page.getByRole('button', { name: 'Reconnect' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('Needs reconnect', { exact: true }).isVisible()).resolves.toBe(true);
    // No sync is scheduled for a connection that cannot read PagerDuty.
    await expect(accountDetail(page, 'Next sync').count()).resolves.toBe(0);
    await expect(accountDetail(page, 'Last successful sync').count()).resolves.toBe(1);
    // PagerDuty rejected the token before any stream started.
    const failedRun = await openRunStreams(page, historyRow(page, 'Manual'));
    await expect(page.locator(`#run-streams-${failedRun.runId}`).textContent()).resolves.toBe('No stream started in this sync.');
    await expectAccessible(page);
    await harness.screenshot('needs reconnect');

    await page.getByRole('button', { name: 'Reconnect' }).click();
    await consentAtPagerDuty(page, stack.simulator.login.email);
    await page.getByRole('status').filter({ hasText: /connected/i }).waitFor();
    await waitForIdleConnected(page);
    // History survives the reconnect: the earlier runs are still listed.
    await expect(page.getByRole('table', { name: 'Recent syncs' }).getByRole('row').count()).resolves.toBeGreaterThanOrEqual(runsBefore);
    await harness.screenshot('reconnected');
    harness.assertNoProblems();
  }, SYNC_TEST_TIMEOUT_MS);

  it('non-admin token shows limited visibility', async () => {
    const { page } = harness;
    const responder = stack.simulator.groundTruth().people.find((person) => person.role === 'user');
    if (responder === undefined) throw new Error('The simulated account has no person with the PagerDuty role "user"; raise its people count');
    await waitForIdleConnected(page);

    await page.getByRole('button', { name: 'Reconnect' }).click();
    await consentAtPagerDuty(page, responder.email);
    await waitForIdleConnected(page);

    const account = page.getByRole('definition').filter({ hasText: responder.email });
    await expect(account.textContent()).resolves.toContain('PagerDuty role: Manager');
    // A token without admin rights misses licenses and audit records: the card says so and offers the invite.
    const warning = page.locator('.message-warning').filter({ hasText: 'Limited visibility.' });
    await expect(warning.isVisible()).resolves.toBe(true);
    await expect(warning.getByRole('button', { name: 'Invite your PagerDuty admin' }).isVisible()).resolves.toBe(true);
    await expectNextScheduledSync(page);

    // The run's summary counts the streams the token could not read, and each gives the reason.
    const reconnectRow = historyRow(page, 'Reconnect');
    await expect(reconnectRow.locator('.run-stream-problems').textContent()).resolves.toMatch(/^\d+ streams? unavailable$/);
    const run = await openRunStreams(page, reconnectRow);
    const auditRecords = await expectStreamRow(run, stack.database, { name: 'audit_records', label: 'Audit records', outcome: 'Unavailable' });
    await expect(auditRecords.locator('.stream-outcome-detail').textContent()).resolves.toContain('only a PagerDuty admin or the account owner may read it');
    await expectStreamRow(run, stack.database, { name: 'users', label: 'Users', outcome: 'Succeeded' });
    await expectAccessible(page);
    await harness.screenshot('non admin token');
    harness.assertNoProblems();
  }, SYNC_TEST_TIMEOUT_MS);

  it('disconnect keeps data, offers Connect', async () => {
    const { page } = harness;
    await waitForIdleConnected(page);
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    const confirm = page.getByRole('group', { name: 'Disconnect PagerDuty?' });
    await confirm.waitFor();
    await expect(confirm.getByLabel('Keep the synced data', { exact: false }).isChecked()).resolves.toBe(true);
    await expectAccessible(page);
    await harness.screenshot('disconnect confirm');

    await confirm.getByRole('button', { name: 'Disconnect PagerDuty' }).click();
    await page.getByRole('status').filter({ hasText: 'PagerDuty is disconnected.' }).waitFor();
    await page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
    await harness.screenshot('disconnected');
    harness.assertNoProblems();
  });
});

describe('plan without a feature', () => {
  const owner = { ...OWNER, organizationName: 'Plan Test Org', email: 'casey@plan.test' };
  let planStack: SeatwiseStack;

  beforeAll(async () => {
    // The professional plan lacks audit records, incident workflows and automation actions.
    planStack = await startStack({ simulator: { plan: 'professional' } });
    const setup = await openPage(chromium, { testName: 'card plan setup', baseUrl: planStack.baseUrl });
    try {
      await setup.page.goto('/setup');
      await setup.page.getByLabel('Organization name').fill(owner.organizationName);
      await setup.page.getByLabel('Your name').fill(owner.name);
      await setup.page.getByLabel('Email').fill(owner.email);
      await setup.page.getByLabel('Password').fill(owner.password);
      await setup.page.getByRole('button', { name: 'Create organization' }).click();
      await setup.page.waitForURL('**/catalog');
      await setup.page.goto('/apps/pagerduty');
      await setup.page.getByRole('button', { name: 'Connect' }).click();
      await consentAtPagerDuty(setup.page, planStack.simulator.login.email, planStack.simulator.login.password);
      await waitForIdleConnected(setup.page);
      setup.assertNoProblems();
    } finally {
      await setup.close();
    }
  }, SYNC_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await planStack?.close();
  });

  async function signInToPlanStack(page: Page): Promise<void> {
    await page.goto('/sign-in');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/catalog');
    await page.goto('/apps/pagerduty');
    await waitForIdleConnected(page);
  }

  it('names unreadable features and why', async () => {
    const desktop = await openPage(chromium, { testName: 'card plan without a feature', baseUrl: planStack.baseUrl });
    try {
      const { page } = desktop;
      await signInToPlanStack(page);
      await expectNextScheduledSync(page);

      const connectRow = historyRow(page, 'Connect');
      await expect(connectRow.locator('.run-stream-problems').textContent()).resolves.toBe('1 stream unavailable');
      const run = await openRunStreams(page, connectRow);

      // A stream the plan does not serve is unavailable, with the plan as the reason.
      const auditRecords = await expectStreamRow(run, planStack.database, { name: 'audit_records', label: 'Audit records', outcome: 'Unavailable' });
      await expect(auditRecords.locator('.stream-outcome-detail').textContent()).resolves.toMatch(/^Not on the PagerDuty plan \(.+\)\.$/);
      // The feature inventory reads what the plan has and names each feature it could not read.
      const inventory = await expectStreamRow(run, planStack.database, { name: 'feature_inventory', label: 'Feature inventory', outcome: 'Succeeded' });
      await expect(inventory.locator('.stream-outcome-detail').textContent()).resolves.toBe(
        'Not readable: Incident workflows (not on the account plan); Automation actions (not on the account plan); Priorities (not on the account plan); Custom fields (not on the account plan).',
      );
      await expectAccessible(page);
      await desktop.screenshot('history open');
      desktop.assertNoProblems();
    } finally {
      await desktop.close();
    }
  }, SYNC_TEST_TIMEOUT_MS);

  it('history fits a phone in German', async () => {
    const phone = await openPage(chromium, {
      testName: 'card plan phone',
      baseUrl: planStack.baseUrl,
      viewport: PHONE_VIEWPORT,
      locale: 'de-DE',
      timezoneId: 'Europe/Berlin',
    });
    try {
      const { page } = phone;
      await signInToPlanStack(page);

      // Times are in the viewer's zone and numbers in the viewer's locale.
      const nextSyncTime = accountDetail(page, 'Next sync').locator('time');
      const nextSyncAt = new Date((await nextSyncTime.getAttribute('datetime')) ?? '');
      const berlinTime = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' });
      await expect(nextSyncTime.textContent()).resolves.toBe(berlinTime.format(nextSyncAt));

      // The run's outcome and its count of unavailable streams show beside the start time.
      const connectRow = historyRow(page, 'Connect');
      const problems = await connectRow.locator('.run-stream-problems').boundingBox();
      if (problems === null) throw new Error('The count of unavailable streams is not rendered');
      expect(problems.x + problems.width).toBeLessThanOrEqual(PHONE_VIEWPORT.width);

      const run = await openRunStreams(page, connectRow);
      const logEntries = streamRow(run.streams, 'Log entries');
      const storedLogEntries = await storedStream(planStack.database, run.runId, 'log_entries');
      expect(storedLogEntries.records, 'the simulated account has too few log entries to show digit grouping').toBeGreaterThanOrEqual(1000);
      await expect(logEntries.locator('td[data-label="Records"]').textContent()).resolves.toBe(storedLogEntries.records.toLocaleString('de-DE'));

      // The open run's streams stay within the screen while the history table scrolls sideways.
      const reason = streamRow(run.streams, 'Audit records').locator('.stream-outcome-detail');
      await reason.scrollIntoViewIfNeeded();
      const box = await reason.boundingBox();
      if (box === null) throw new Error('The reason of the unavailable stream is not rendered');
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE_VIEWPORT.width);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await expectAccessible(page);
      await phone.screenshot('history open');
      phone.assertNoProblems();
    } finally {
      await phone.close();
    }
  }, SYNC_TEST_TIMEOUT_MS);
});
