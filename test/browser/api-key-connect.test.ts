import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, type LaunchedBrowser } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * Connecting with an account API key from the Connections card, and switching to the key's
 * account only after the user confirms that the two accounts' data must not mix.
 */

const OWNER = { organizationName: 'Key Corp', name: 'Kim Owner', email: 'kim@key.test', password: 'key owner password' };

let stack: SeatwiseStack;
let chromium: LaunchedBrowser;

beforeAll(async () => {
  stack = await startStack({ simulator: { people: 5 } });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

it('api key connects and switches', async () => {
  const harness = await openPage(chromium, { testName: 'api key connect', baseUrl: stack.baseUrl });
  const { page } = harness;
  try {
    expect((await harness.context.request.post('/api/setup', { data: OWNER })).status()).toBe(201);
    await page.goto('/apps/pagerduty');

    await page.getByText('Connect with an API key instead').click();
    await page.getByLabel('PagerDuty API key').fill('not-a-real-key-123');
    await page.getByRole('button', { name: 'Connect with API key' }).click();
    await page.getByText('PagerDuty did not accept the API key').waitFor();

    await page.getByLabel('PagerDuty API key').fill(stack.simulator.apiKey);
    await page.getByRole('button', { name: 'Connect with API key' }).click();
    await page.getByRole('status').getByText('PagerDuty is connected with the API key.').waitFor();
    const { db } = stack.database;
    const first = await db.selectFrom('connections').select(['id', 'method']).where('archived_at', 'is', null).executeTakeFirstOrThrow();
    expect(first.method).toBe('api_key');
    const details = page.getByRole('definition').filter({ hasText: 'REST API key' });
    await expect(details.textContent()).resolves.toBe('An account REST API key, which belongs to no PagerDuty user');

    // The connected account becomes another one, as if the organization had connected `previous-co` first.
    await db.updateTable('connections').set({ subdomain: 'previous-co' }).where('id', '=', first.id).execute();
    await page.reload();
    await page.getByText('Connect with an API key instead').click();
    await page.getByLabel('PagerDuty API key').fill(stack.simulator.apiKey);
    await page.getByRole('button', { name: 'Connect with API key' }).click();
    const warning = page.getByRole('alert').filter({ hasText: 'not previous-co' });
    await warning.waitFor();
    expect(await warning.getByRole('button', { name: 'Switch account' }).isDisabled()).toBe(true);
    await harness.screenshot('switch asks for confirmation');
    expect(describeViolations(await findAccessibilityViolations(page))).toBe('');

    await warning.getByLabel(/must not mix/).check();
    await warning.getByRole('button', { name: 'Switch account' }).click();
    await page.getByRole('status').getByText('Seatwise switched to the account of this API key.').waitFor();
    const archived = await db.selectFrom('connections').select('archived_at').where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(archived.archived_at).not.toBeNull();
    const live = await db.selectFrom('connections').select('subdomain').where('archived_at', 'is', null).executeTakeFirstOrThrow();
    expect(live.subdomain).toBe(stack.simulator.account.subdomain);
    await harness.screenshot('switched');
    harness.assertNoProblems();
  } finally {
    await harness.close();
  }
});
