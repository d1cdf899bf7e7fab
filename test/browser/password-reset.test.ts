import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeViolations, findAccessibilityViolations, launchChromium, openPage, type LaunchedBrowser } from '../support/browser.ts';
import { startStack, type SeatwiseStack } from './stack.ts';

/**
 * The password reset from the sign-in page: request a link, open it from the mail outbox,
 * choose a new password and sign in with it.
 */

const OWNER = { organizationName: 'Reset Test Org', name: 'Rita Owner', email: 'rita@reset.test', password: 'the first long password' };
const NEW_PASSWORD = 'a second and longer password';

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

it('reset link sets new password', async () => {
  const admin = await openPage(chromium, { testName: 'reset admin', baseUrl: stack.baseUrl });
  const user = await openPage(chromium, { testName: 'reset user', baseUrl: stack.baseUrl });
  try {
    const setup = await admin.context.request.post('/api/setup', { data: OWNER });
    expect(setup.status()).toBe(201);

    await user.page.goto('/sign-in');
    await user.page.getByRole('link', { name: 'Forgot your password?' }).click();
    await user.page.waitForURL('**/reset-password');
    await user.page.getByLabel('Email').fill(OWNER.email);
    await user.page.getByRole('button', { name: 'Send reset link' }).click();
    await expect.poll(() => user.page.getByRole('status').textContent()).toContain('a reset link is on its way');
    expect(describeViolations(await findAccessibilityViolations(user.page))).toBe('');

    const outbox = await admin.context.request.get('/api/outbox');
    expect(outbox.status()).toBe(200);
    const messages = ((await outbox.json()) as { messages: { to: string; text: string }[] }).messages;
    const mail = messages.find((message) => message.to === OWNER.email);
    expect(mail?.text).toMatch(/\/reset-password\?token=/);
    const link = /https?:\/\/\S+\/reset-password\?token=\S+/.exec(mail!.text)![0];
    expect(new URL(link).origin).toBe(stack.baseUrl);

    await user.page.goto(link);
    await user.page.getByLabel('New password', { exact: true }).fill('too short');
    await user.page.getByLabel('Repeat the new password').fill('too short');
    await user.page.getByRole('button', { name: 'Set new password' }).click();
    await user.page.getByText('Use at least 12 characters.').waitFor();

    await user.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await user.page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await user.page.getByRole('button', { name: 'Set new password' }).click();
    await user.page.getByRole('status').getByText('Your password is changed').waitFor();
    expect(describeViolations(await findAccessibilityViolations(user.page))).toBe('');
    await user.page.getByRole('link', { name: 'Sign in with the new password' }).click();

    await user.page.waitForURL('**/sign-in');
    await user.page.getByLabel('Email').fill(OWNER.email);
    await user.page.getByLabel('Password').fill(NEW_PASSWORD);
    await user.page.getByRole('button', { name: 'Sign in' }).click();
    await user.page.waitForURL('**/catalog');

    const oldPassword = await admin.context.request.post('/api/session', { data: { email: OWNER.email, password: OWNER.password } });
    expect(oldPassword.status()).toBe(401);
    await user.page.goto(link);
    await user.page.getByLabel('New password', { exact: true }).fill('yet another long password');
    await user.page.getByLabel('Repeat the new password').fill('yet another long password');
    await user.page.getByRole('button', { name: 'Set new password' }).click();
    await user.page.getByRole('link', { name: 'Request a new link' }).waitFor();
    user.assertNoProblems();
  } finally {
    await admin.close();
    await user.close();
  }
});
