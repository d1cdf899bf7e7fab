import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, type LaunchedBrowser } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The pages of an account whose licenses PagerDuty does not let Seatwise read: each seat type
 * comes from the person's PagerDuty role, and the people pages, the export, the recommendations
 * and the overview's savings say so.
 */

const OWNER = { organizationName: 'Role Seats Corp', name: 'Rui Owner', email: 'rui@roles.test', password: 'role seats owner password' };
const PEOPLE = 12;
const SYNC_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 180_000;
const FROM_ROLE = /^(Full User|Stakeholder) \(by role\)$/;

let stack: SeatwiseStack;
let chromium: LaunchedBrowser;

beforeAll(async () => {
  stack = await startStack({ simulator: { people: PEOPLE, licenseAccess: 'forbidden' } });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

it('people pages mark license from role', async () => {
  const harness = await openPage(chromium, { testName: 'seats by role', baseUrl: stack.baseUrl });
  const { page } = harness;
  try {
    expect((await harness.context.request.post('/api/setup', { data: OWNER })).status()).toBe(201);
    await page.goto('/apps/pagerduty');
    await page.getByText('Connect with an API key instead').click();
    await page.getByLabel('PagerDuty API key').fill(stack.simulator.apiKey);
    await page.getByRole('button', { name: 'Connect with API key' }).click();
    await page.getByRole('status').getByText('PagerDuty is connected with the API key.').waitFor();
    // The first sync starts on connect; the card offers another once it has finished.
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: SYNC_TIMEOUT_MS });

    await page.goto('/people');
    const table = page.getByRole('table', { name: 'People' });
    await table.waitFor();
    await page.getByRole('status').filter({ hasText: `of ${PEOPLE} people` }).waitFor();
    const note = page.getByRole('note').filter({ hasText: 'PagerDuty did not allow reading licenses' });
    await expect(note.isVisible()).resolves.toBe(true);
    const licenses = await table.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(licenses.length).toBe(PEOPLE);
    for (const license of licenses) expect(license).toMatch(FROM_ROLE);
    expect(describeViolations(await findAccessibilityViolations(page))).toBe('');
    await harness.screenshot('people license from role');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Export \d+ as CSV$/ }).click()]);
    const rows = parse(await readFile(await download.path(), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows.length).toBe(PEOPLE);
    for (const row of rows) expect(row.License).toMatch(FROM_ROLE);

    const firstPerson = table.getByRole('rowheader').first().getByRole('link');
    const name = (await firstPerson.textContent()) ?? '';
    await firstPerson.click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    const license = page.locator('dt:text-is("License") + dd').first();
    await expect(license.textContent()).resolves.toMatch(/^(Full User|Stakeholder) \(by role\)PagerDuty did not allow reading licenses/);
    expect(describeViolations(await findAccessibilityViolations(page))).toBe('');
    await harness.screenshot('person license from role');

    await page.goto('/recommendations');
    const explanation = page.getByRole('note').filter({ hasText: 'Seats taken from roles' });
    await explanation.waitFor();
    await expect(explanation.textContent()).resolves.toContain('reconnect as a PagerDuty Global Admin');
    // Every recommendation names the seat the role needs and requires a check in PagerDuty first,
    // so none is ready.
    const recommendationRows = page.locator('table.stacked-table tbody tr');
    await recommendationRows.first().waitFor();
    const rowCount = await recommendationRows.count();
    expect(rowCount).toBeGreaterThan(0);
    for (let index = 0; index < rowCount; index += 1) {
      const row = recommendationRows.nth(index);
      await expect(row.locator('td[data-label="License"]').textContent()).resolves.toMatch(FROM_ROLE);
      await expect(row.locator('td[data-label="Status"]').textContent()).resolves.toMatch(/^(Check first|Blocked)$/);
      await expect(row.locator('td[data-label="Guardrails"]').textContent()).resolves.toContain('PagerDuty did not allow reading licenses');
    }
    expect(describeViolations(await findAccessibilityViolations(page))).toBe('');
    await harness.screenshot('recommendations by role');

    await page.goto('/overview');
    const savings = page.getByRole('region', { name: 'Potential yearly savings' });
    await savings.getByText('PagerDuty did not allow reading licenses, so these recommendations').waitFor();
    await harness.screenshot('overview savings by role');
    harness.assertNoProblems();
  } finally {
    await harness.close();
  }
}, TEST_TIMEOUT_MS);
