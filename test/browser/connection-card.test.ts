import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, type LaunchedBrowser, type PageHarness } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The Connections card in each state, with the simulator driven into it: a refused token
 * exchange, a sync in progress, a revoked token, and a token of a PagerDuty user who is no admin.
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

beforeEach(async (context) => {
  harness = await openPage(chromium, { testName: `card ${context.task.name}`, baseUrl: stack.baseUrl });
  await signIn(harness.page);
});

afterEach(async () => {
  stack.simulator.control.setLatency(0);
  await harness?.close();
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

async function consentAtPagerDuty(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(stack.simulator.login.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL('**/apps/pagerduty**');
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
}

async function waitForIdleConnected(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });
}

async function expectAccessible(page: Page): Promise<void> {
  const violations = await findAccessibilityViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

describe('connections card states', () => {
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
    await expect(account.textContent()).resolves.toContain('PagerDuty role: User');
    // A token without admin rights misses licenses and audit records: the card says so and offers the invite.
    const warning = page.locator('.message-warning').filter({ hasText: 'Limited visibility.' });
    await expect(warning.isVisible()).resolves.toBe(true);
    await expect(warning.getByRole('button', { name: 'Invite your PagerDuty admin' }).isVisible()).resolves.toBe(true);
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
