import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/passwords.ts';
import { insertUser } from '../../src/accounts/repository.ts';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, type LaunchedBrowser, type PageHarness } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The organization menu in the header and the members section of Settings: create and switch
 * organizations, change a role, invite and revoke, remove a member, and read the audit log.
 */

const OWNER = { organizationName: 'Orbit Labs', name: 'Omar Owner', email: 'omar@orbit.test', password: 'orbit owner password' };
const MEMBER = { name: 'Ivy Member', email: 'ivy@orbit.test', password: 'orbit member password' };

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

async function expectAccessible(harness: PageHarness): Promise<void> {
  expect(describeViolations(await findAccessibilityViolations(harness.page))).toBe('');
}

it('members settings and organization menu', async () => {
  const harness = await openPage(chromium, { testName: 'organizations', baseUrl: stack.baseUrl });
  const { page } = harness;
  try {
    const setup = await harness.context.request.post('/api/setup', { data: OWNER });
    expect(setup.status()).toBe(201);
    const organization = await stack.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
    await insertUser(stack.database.db, { organizationId: organization.id, email: MEMBER.email, name: MEMBER.name, passwordHash: await hashPassword(MEMBER.password), role: 'member' });

    await page.goto('/settings');
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('rowheader', { name: /Ivy Member/ }).waitFor();
    await harness.screenshot('members');
    await expectAccessible(harness);

    // An owner gives any role; the change is confirmed and recorded.
    await page.getByLabel('Role of Ivy Member').selectOption('viewer');
    await page.getByRole('status').getByText('Ivy Member is now viewer.').waitFor();
    const audit = page.getByRole('table', { name: 'Audit log' });
    // jsonb orders the detail keys by itself, so each detail is checked on its own.
    await audit.getByRole('row').filter({ hasText: 'Member role changed' }).filter({ hasText: 'email: ivy@orbit.test' }).filter({ hasText: 'to: viewer' }).waitFor();

    // The last owner cannot step down; the server's sentence is shown.
    await page.getByLabel('Role of Omar Owner').selectOption('admin');
    await page.getByText('An organization needs at least one owner').waitFor();
    await expect.poll(() => page.getByLabel('Role of Omar Owner').inputValue()).toBe('owner');
    await harness.screenshot('last owner kept');

    const inviteForm = page.getByRole('form', { name: 'Invite someone' });
    await inviteForm.getByLabel('Email to invite').fill('not an address');
    await inviteForm.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText('"not an address" is not an email address').waitFor();
    await inviteForm.getByLabel('Email to invite').fill('newbie@orbit.test');
    await inviteForm.getByLabel('Role to give').selectOption('admin');
    await inviteForm.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('status').getByText('Invitation sent to newbie@orbit.test.').waitFor();
    const pending = page.getByRole('table', { name: 'Pending invitations' });
    await pending.getByRole('rowheader', { name: 'newbie@orbit.test' }).waitFor();
    await harness.screenshot('invitation pending');
    await expectAccessible(harness);

    await pending.getByRole('button', { name: 'Revoke the invitation of newbie@orbit.test' }).click();
    await page.getByText('No invitation is pending.').waitFor();
    await audit.getByRole('rowheader', { name: 'Member invitation revoked' }).waitFor();

    await members.getByRole('button', { name: 'Remove Ivy Member' }).click();
    await members.getByRole('group', { name: 'Confirm removing Ivy Member' }).getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('status').getByText('Ivy Member was removed from Orbit Labs.').waitFor();
    expect(await members.getByRole('rowheader', { name: /Ivy Member/ }).count()).toBe(0);

    // The organization menu creates a second organization and switches between the two.
    await page.getByRole('button', { name: 'Organization: Orbit Labs' }).click();
    await page.getByLabel('New organization').fill('Nebula Works');
    await harness.screenshot('organization menu open');
    await expectAccessible(harness);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL('**/catalog');
    await page.getByRole('button', { name: 'Organization: Nebula Works' }).waitFor();
    await page.goto('/settings');
    await members.getByRole('rowheader', { name: /Omar Owner/ }).waitFor();
    expect(await members.getByRole('row').count()).toBe(2);

    await page.getByRole('button', { name: 'Organization: Nebula Works' }).click();
    await page.getByRole('list', { name: 'Switch organization' }).getByRole('button', { name: /Orbit Labs/ }).click();
    await page.waitForURL('**/catalog');
    await page.getByRole('button', { name: 'Organization: Orbit Labs' }).waitFor();
    await harness.screenshot('switched back');
    harness.assertNoProblems();
  } finally {
    await harness.close();
  }
});
