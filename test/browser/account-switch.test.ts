import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, type LaunchedBrowser } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The Connections card's offer to switch PagerDuty accounts. The stored connection is rewritten
 * to name another account, so the simulator's account then differs from it.
 */

const OWNER = { organizationName: 'Switch Card Org', name: 'Sasha Owner', email: 'sasha@switch.test', password: 'correct horse battery staple' };
const OTHER_ACCOUNT = { account_id: 'POTHERACCOUNT', subdomain: 'other-account' };

let stack: SeatwiseStack;
let chromium: LaunchedBrowser;

beforeAll(async () => {
  stack = await startStack({ simulator: { people: 8 } });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

async function consentAtPagerDuty(page: Page): Promise<void> {
  await page.getByLabel('Email').fill(stack.simulator.login.email);
  await page.getByLabel('Password').fill(stack.simulator.login.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL('**/apps/pagerduty**');
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
}

it('card switches after confirmation', async () => {
  const harness = await openPage(chromium, { testName: 'account switch card', baseUrl: stack.baseUrl });
  const { page } = harness;
  try {
    const setup = await harness.context.request.post('/api/setup', { data: OWNER });
    expect(setup.status()).toBe(201);
    await page.goto('/apps/pagerduty');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await consentAtPagerDuty(page);
    await page.getByRole('button', { name: 'Reconnect' }).waitFor();

    const { db } = stack.database;
    await db.updateTable('connections').set(OTHER_ACCOUNT).execute();
    await page.reload();
    await page.getByRole('button', { name: 'Reconnect' }).click();
    await consentAtPagerDuty(page);
    await page.getByText('You signed in to a different PagerDuty account').waitFor();

    const offer = page.getByRole('form', { name: 'Switch to the other PagerDuty account?' });
    await offer.waitFor();
    expect(await offer.textContent()).toContain(OTHER_ACCOUNT.subdomain);
    expect(describeViolations(await findAccessibilityViolations(page))).toBe('');
    // The switch stays unavailable until the user confirms.
    expect(await offer.getByRole('button', { name: 'Switch account' }).getAttribute('aria-disabled')).toBe('true');

    await offer.getByLabel(/I understand that the data of the two accounts must not mix/).check();
    await offer.getByRole('button', { name: 'Switch account' }).click();
    await consentAtPagerDuty(page);
    await page.getByText('Seatwise switched to the PagerDuty account you signed in to.').waitFor();

    const connections = await db.selectFrom('connections').select(['account_id', 'archived_at']).orderBy('created_at').execute();
    expect(connections.length).toBe(2);
    expect(connections[0]).toMatchObject({ account_id: OTHER_ACCOUNT.account_id });
    expect(connections[0]?.archived_at).not.toBeNull();
    expect(connections[1]).toEqual({ account_id: stack.simulator.account.id, archived_at: null });
    harness.assertNoProblems();
  } finally {
    await harness.close();
  }
});
