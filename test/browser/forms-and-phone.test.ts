import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, PHONE_VIEWPORT, type LaunchedBrowser, type PageHarness } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The settings forms, the overview after a disconnect and the wide tables on a phone, against
 * the whole product with a synced simulated PagerDuty account.
 */

const OWNER = { organizationName: 'Polish Corp', name: 'Pia Owner', email: 'pia@polish.test', password: 'correct horse battery staple' };
const SYNC_TIMEOUT_MS = 60_000;
const SYNC_TEST_TIMEOUT_MS = 150_000;
/** Long enough for any input handler or re-render that would clear or flag a field while typing. */
const TYPING_PAUSE_MS = 400;

interface SavedSettings {
  contract: { lines: { licenseName: string; seats: number | null; pricePerSeatMinor: number }[] } | null;
  supportEmail: string | null;
}

let stack: SeatwiseStack;
let chromium: LaunchedBrowser;
let harness: PageHarness;

async function expectAccessible(page: Page): Promise<void> {
  const violations = await findAccessibilityViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

async function readSettings(page: Page): Promise<SavedSettings> {
  return (await page.evaluate(async () => (await fetch('/api/settings')).json())) as SavedSettings;
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/catalog');
}

async function openSettings(page: Page): Promise<string[]> {
  await page.goto('/settings');
  const prices = page.getByRole('table', { name: 'Prices per license' });
  await prices.waitFor();
  return prices.getByRole('rowheader').allTextContents();
}

/** Creates the organization, connects the simulator and waits for the first sync to finish. */
async function setUpSyncedOrganization(page: Page): Promise<void> {
  await page.goto('/setup');
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
  await page.getByRole('table', { name: 'Recent syncs' }).waitFor();
}

beforeAll(async () => {
  stack = await startStack();
  chromium = await launchChromium();
  harness = await openPage(chromium, { testName: 'forms and phone', baseUrl: stack.baseUrl });
  await setUpSyncedOrganization(harness.page);
}, SYNC_TEST_TIMEOUT_MS);

afterAll(async () => {
  await harness?.close();
  await chromium?.close();
  await stack?.close();
});

describe('settings forms in Chromium', () => {
  it('price takes German decimal comma', async () => {
    const german = await openPage(chromium, { testName: 'price german comma', baseUrl: stack.baseUrl, locale: 'de-DE' });
    try {
      await signIn(german.page);
      const [license] = await openSettings(german.page);
      if (license === undefined) throw new Error('The synced account shows no license type on the settings page');
      await german.page.getByLabel(`Price per seat of ${license}`).pressSequentially('41,50');
      await german.page.getByRole('button', { name: 'Save contract' }).click();
      await german.page.getByRole('status').filter({ hasText: 'Contract saved.' }).waitFor();
      await german.screenshot('saved');

      const saved = await readSettings(german.page);
      expect(saved.contract?.lines.find((line) => line.licenseName === license)?.pricePerSeatMinor).toBe(4150);
      german.assertNoProblems();
    } finally {
      await german.close();
    }
  });

  it('price rejects comma in en-US', async () => {
    const { page } = harness;
    const [license] = await openSettings(page);
    if (license === undefined) throw new Error('The synced account shows no license type on the settings page');
    const before = await readSettings(page);
    const price = page.getByLabel(`Price per seat of ${license}`);
    await price.fill('');
    await price.pressSequentially('41,50');
    await page.getByRole('button', { name: 'Save contract' }).click();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain(`Price per seat of ${license}`);
    await expect(alert.textContent()).resolves.toContain('"41,50"');
    await expect(price.getAttribute('aria-invalid')).resolves.toBe('true');
    await harness.screenshot('price comma rejected');
    expect(await readSettings(page)).toEqual(before);
    harness.assertNoProblems();
  });

  it('contract form lists every invalid field', async () => {
    const { page } = harness;
    const licenses = await openSettings(page);
    const [first, second = first] = licenses;
    if (first === undefined || second === undefined) throw new Error('The synced account shows no license type on the settings page');
    const before = await readSettings(page);

    await page.getByLabel(`Seats bought of ${first}`).fill('-5');
    await page.getByLabel(`Price per seat of ${first}`).fill('-3');
    await page.getByLabel(`Seats bought of ${second}`).fill('1e400');
    await page.getByLabel(`Price per seat of ${second}`).fill('10');
    await page.getByRole('button', { name: 'Save contract' }).click();

    const items = page.getByRole('alert').getByRole('listitem');
    await items.first().waitFor();
    const texts = await items.allTextContents();
    expect(texts.some((text) => text.includes(`Seats bought of ${first}`) && text.includes('"-5"'))).toBe(true);
    expect(texts.some((text) => text.includes(`Price per seat of ${first}`) && text.includes('"-3"'))).toBe(true);
    expect(texts.some((text) => text.includes(`Seats bought of ${second}`) && text.includes('"1e400"'))).toBe(true);
    for (const label of [`Seats bought of ${first}`, `Price per seat of ${first}`, `Seats bought of ${second}`]) {
      await expect(page.getByLabel(label).getAttribute('aria-invalid'), label).resolves.toBe('true');
    }
    await expectAccessible(page);
    await harness.screenshot('every invalid field');
    expect(await readSettings(page)).toEqual(before);
    harness.assertNoProblems();
  });

  it('contract fields survive price edits', async () => {
    const { page } = harness;
    const [license] = await openSettings(page);
    if (license === undefined) throw new Error('The synced account shows no license type on the settings page');
    const fields = { plan: page.getByLabel('Plan'), currency: page.getByLabel('Currency'), notice: page.getByLabel('Notice period (days)'), renewal: page.getByLabel('Renewal date') };
    await fields.plan.fill('Enterprise');
    await fields.currency.fill('EUR');
    await fields.notice.fill('45');
    await fields.renewal.fill('2027-06-30');
    await page.getByLabel('Billing period').selectOption('monthly');

    await page.getByLabel(`Seats bought of ${license}`).fill('');
    await page.getByLabel(`Seats bought of ${license}`).pressSequentially('12');
    await page.waitForTimeout(TYPING_PAUSE_MS);
    await expect(fields.plan.inputValue()).resolves.toBe('Enterprise');
    await expect(fields.currency.inputValue()).resolves.toBe('EUR');
    await expect(fields.notice.inputValue()).resolves.toBe('45');
    await expect(fields.renewal.inputValue()).resolves.toBe('2027-06-30');
    await expect(page.getByLabel('Billing period').inputValue()).resolves.toBe('monthly');

    await page.getByRole('button', { name: 'Save contract' }).click();
    await page.getByRole('status').filter({ hasText: 'Contract saved.' }).waitFor();
    const saved = (await page.evaluate(async () => (await fetch('/api/settings')).json())) as {
      contract: { plan: string | null; currency: string; billingPeriod: string; renewalDate: string | null; noticePeriodDays: number } | null;
    };
    expect(saved.contract?.plan).toBe('Enterprise');
    expect(saved.contract?.currency).toBe('EUR');
    expect(saved.contract?.billingPeriod).toBe('monthly');
    expect(saved.contract?.renewalDate).toBe('2027-06-30');
    expect(saved.contract?.noticePeriodDays).toBe(45);
    harness.assertNoProblems();
  });

  it('csv with bad lines imports nothing', async () => {
    const { page } = harness;
    const [license] = await openSettings(page);
    if (license === undefined) throw new Error('The synced account shows no license type on the settings page');
    const price = page.getByLabel(`Price per seat of ${license}`);
    const priceBefore = await price.inputValue();
    const csv = ['license,seats,price', `"${license}",12,99.00`, `"${license}",-4,10.00`, 'Galactic Emperor,3,5.00', `"${license}",2,41,50`].join('\n');

    await page.getByLabel('Import prices from CSV').setInputFiles({ name: 'prices.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const items = page.getByRole('alert').getByRole('listitem');
    await items.first().waitFor();
    const texts = await items.allTextContents();
    expect(texts).toHaveLength(3);
    expect(texts[0]).toMatch(/^Line 3: .*seats.*"-4"/);
    expect(texts[1]).toMatch(/^Line 4: the synced PagerDuty account has no license named "Galactic Emperor"/);
    expect(texts[2]).toMatch(/^Line 5: /);
    await expect(price.inputValue()).resolves.toBe(priceBefore);
    await harness.screenshot('csv rejected');
    harness.assertNoProblems();
  });

  it('support email validates only on submit', async () => {
    const { page } = harness;
    await openSettings(page);
    const field = page.getByRole('textbox', { name: 'Support email' });
    const fieldError = page.locator('#support-email-error');

    await field.fill('');
    await field.pressSequentially('team@');
    await page.waitForTimeout(TYPING_PAUSE_MS);
    await expect(fieldError.count()).resolves.toBe(0);
    await expect(field.getAttribute('aria-invalid')).resolves.toBeNull();
    await expect(field.inputValue()).resolves.toBe('team@');

    await page.getByRole('button', { name: 'Save email' }).click();
    await fieldError.waitFor();
    await expect(field.inputValue()).resolves.toBe('team@');
    await expect(fieldError.textContent()).resolves.toContain('"team@"');
    await harness.screenshot('support email invalid');

    await field.fill('');
    await page.waitForTimeout(TYPING_PAUSE_MS);
    await expect(field.inputValue()).resolves.toBe('');
    await page.getByRole('button', { name: 'Save email' }).click();
    await page.getByRole('status').filter({ hasText: 'Support email cleared' }).waitFor();
    await expect(fieldError.count()).resolves.toBe(0);
    await expect(field.inputValue()).resolves.toBe('');
    expect((await readSettings(page)).supportEmail).toBeNull();

    await field.pressSequentially('team@polish.test');
    await page.getByRole('button', { name: 'Save email' }).click();
    await page.getByRole('status').filter({ hasText: 'Support email saved.' }).waitFor();
    await expect(field.inputValue()).resolves.toBe('team@polish.test');
    expect((await readSettings(page)).supportEmail).toBe('team@polish.test');
    await harness.screenshot('support email saved');
    harness.assertNoProblems();
  });
});

describe('tables on a phone', () => {
  it('sync outcome stays on one line', async () => {
    const phone = await openPage(chromium, { testName: 'phone sync table', baseUrl: stack.baseUrl, viewport: PHONE_VIEWPORT });
    try {
      await signIn(phone.page);
      await phone.page.goto('/apps/pagerduty');
      const region = phone.page.getByRole('region', { name: 'Recent syncs, scrollable' });
      await region.waitFor();
      await expect(region.getAttribute('tabindex')).resolves.toBe('0');
      const table = phone.page.getByRole('table', { name: 'Recent syncs' });
      await table.locator('tbody tr').first().waitFor();

      // Each cell's first text must lay out as one line box, not a letter per line.
      const lineCounts = await table.locator('tbody td').evaluateAll((cells) =>
        cells.map((cell) => {
          const text = cell.firstChild;
          if (text === null) return 1;
          const range = document.createRange();
          range.selectNodeContents(text);
          return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
        }),
      );
      expect(lineCounts.length).toBeGreaterThan(0);
      expect(lineCounts.every((count) => count === 1), `lines per cell: ${lineCounts.join(', ')}`).toBe(true);
      await expectAccessible(phone.page);
      await phone.screenshot('pagerduty');
      phone.assertNoProblems();
    } finally {
      await phone.close();
    }
  });

  it('exempt buttons fit the screen', async () => {
    const phone = await openPage(chromium, { testName: 'phone recommendations', baseUrl: stack.baseUrl, viewport: PHONE_VIEWPORT });
    try {
      await signIn(phone.page);
      await phone.page.goto('/recommendations');
      const buttons = phone.page.getByRole('button', { name: /^Exempt / });
      await buttons.first().waitFor();
      const boxes = await buttons.evaluateAll((elements) => elements.map((element) => element.getBoundingClientRect().right));
      expect(boxes.length).toBeGreaterThan(0);
      expect(Math.max(...boxes)).toBeLessThanOrEqual(PHONE_VIEWPORT.width);
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await expectAccessible(phone.page);
      await phone.screenshot('recommendations');
      phone.assertNoProblems();
    } finally {
      await phone.close();
    }
  });
});

describe('overview after disconnect', () => {
  it('says figures are frozen', async () => {
    const { page } = harness;
    await page.goto('/overview');
    await page.getByRole('table', { name: 'Seats by license' }).waitFor();
    await expect(page.getByText('PagerDuty is disconnected').count()).resolves.toBe(0);

    await page.goto('/apps/pagerduty');
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    const confirm = page.getByRole('group', { name: 'Disconnect PagerDuty?' });
    await expect(confirm.getByLabel('Keep the synced data', { exact: false }).isChecked()).resolves.toBe(true);
    await confirm.getByRole('button', { name: 'Disconnect PagerDuty' }).click();
    await page.getByRole('button', { name: 'Connect', exact: true }).waitFor();

    await page.goto('/overview');
    await page.getByRole('table', { name: 'Seats by license' }).waitFor();
    const notice = page.getByRole('status').filter({ hasText: 'PagerDuty is disconnected.' });
    await notice.waitFor();
    await expect(notice.textContent()).resolves.toMatch(new RegExp(`from the disconnected account ${stack.simulator.account.subdomain}\\.pagerduty\\.com and frozen since its last sync`));
    await expectAccessible(page);
    await harness.screenshot('overview disconnected');
    harness.assertNoProblems();
  }, SYNC_TEST_TIMEOUT_MS);
});
