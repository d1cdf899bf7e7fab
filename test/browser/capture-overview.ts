/**
 * Refreshes docs/images/overview.png, the README's picture of the overview page. It starts the
 * whole product with the demo account that `npm start` generates: the simulator's default seed
 * and 250 people. It connects through the simulated PagerDuty consent screen and enters contract
 * prices, then syncs again so the savings show in money, and saves the overview at 1280 px.
 *
 * Run it with `npx tsx test/browser/capture-overview.ts` after `npm run build`. It is not a test,
 * so `npm test` never rewrites the picture.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DESKTOP_VIEWPORT, launchChromium, openPage } from '../support/browser.ts';
import { startStack } from './stack.ts';

const IMAGE_PATH = join(import.meta.dirname, '..', '..', 'docs', 'images', 'overview.png');
const OWNER = { organizationName: 'Acme Corp', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery staple' };
const DEMO_PEOPLE = 250;
/** Yearly prices per seat (the form's default billing period) that look like a Business plan; any prices would do. */
const FULL_USER_PRICE_PER_SEAT = '492.00';
const STAKEHOLDER_PRICE_PER_SEAT = '36.00';
const SYNC_TIMEOUT_MS = 180_000;

async function main(): Promise<void> {
  const stack = await startStack({ simulator: { people: DEMO_PEOPLE } });
  const chromium = await launchChromium();
  try {
    const harness = await openPage(chromium, { testName: 'overview image', baseUrl: stack.baseUrl, viewport: DESKTOP_VIEWPORT });
    const { page } = harness;

    await page.goto('/');
    await page.waitForURL('**/setup');
    await page.getByLabel('Organization name').fill(OWNER.organizationName);
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL('**/catalog');

    await page.goto('/apps/pagerduty');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByLabel('Email').fill(stack.simulator.login.email);
    await page.getByLabel('Password').fill(stack.simulator.login.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL('**/apps/pagerduty**');
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });

    // Prices are read by the crunch, so a second sync puts them on the recommendations.
    const overview = (await page.evaluate(async () => (await fetch('/api/overview')).json())) as { seats: { licenseName: string; paid: number | null }[] };
    await page.goto('/settings');
    const prices = page.getByRole('table', { name: 'Prices per license' });
    await prices.waitFor();
    for (const name of await prices.getByRole('rowheader').allTextContents()) {
      const paid = overview.seats.find((seat) => seat.licenseName === name)?.paid ?? null;
      if (paid !== null) await page.getByLabel(`Seats bought of ${name}`).fill(String(paid));
      await page.getByLabel(`Price per seat of ${name}`).fill(name.includes('Stakeholder') ? STAKEHOLDER_PRICE_PER_SEAT : FULL_USER_PRICE_PER_SEAT);
    }
    await page.getByRole('button', { name: 'Save contract' }).click();
    await page.getByRole('status').filter({ hasText: 'Contract saved.' }).waitFor();

    await page.goto('/apps/pagerduty');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ state: 'detached', timeout: SYNC_TIMEOUT_MS }).catch(() => undefined);
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });

    await page.goto('/overview');
    await page.getByRole('region', { name: 'Potential yearly savings' }).waitFor();
    await page.locator('.chart canvas').nth(1).waitFor();
    await page.waitForLoadState('networkidle');
    await mkdir(dirname(IMAGE_PATH), { recursive: true });
    await page.screenshot({ path: IMAGE_PATH, fullPage: true });
    harness.assertNoProblems();
    await harness.close();
    process.stdout.write(`Saved ${IMAGE_PATH}\n`);
  } finally {
    await chromium.close();
    await stack.close();
  }
}

await main();
