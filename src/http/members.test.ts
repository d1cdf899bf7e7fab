import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = {
  clientId: 'client',
  clientSecret: 'secret',
  identityUrl: 'http://127.0.0.1:9',
  scope: 'read',
  allowedApiBaseUrls: ['http://127.0.0.1:9'],
};
const OWNER = { organizationName: 'Alpha', name: 'Olga Owner', email: 'olga@alpha.test', password: 'alpha owner password' };
const ADMIN = { email: 'adam@alpha.test', password: 'alpha admin password' };
const MEMBER = { email: 'mona@alpha.test', password: 'alpha member password' };

interface SessionBody {
  user: { id: string; role: string };
  organization: { id: string; name: string };
  organizations: { id: string; name: string; role: string }[];
  csrfToken: string;
}

interface Signed {
  browser: TestBrowser;
  csrfToken: string;
  session: SessionBody;
}

describe.each(testDatabaseTargets())('organizations and members on $name', ({ open }) => {
  let server: TestServer;
  let alphaId: string;
  const userIds = new Map<string, string>();

  async function signIn(person: { email: string; password: string }): Promise<Signed> {
    const browser = new TestBrowser(server.url);
    const response = await browser.json<SessionBody>('/api/session', { method: 'POST', json: person });
    expect(response.status, `sign-in of ${person.email}`).toBe(200);
    return { browser, csrfToken: response.body.csrfToken, session: response.body };
  }

  function send<T = Record<string, unknown>>(signed: Signed, method: string, path: string, json?: unknown) {
    return signed.browser.json<T>(path, { method, json: json ?? {}, headers: { 'x-csrf-token': signed.csrfToken } });
  }

  /** Reads the newest join link mailed to `email` from the outbox of the signed-in admin's organization. */
  async function joinLinkFor(admin: Signed, email: string): Promise<string> {
    const outbox = await admin.browser.json<{ messages: { to: string; text: string }[] }>('/api/outbox');
    const message = outbox.body.messages.find((candidate) => candidate.to === email);
    const link = /https?:\/\/\S+\/join\?token=\S+/.exec(message?.text ?? '')?.[0];
    expect(link, `join link for ${email}`).toBeDefined();
    const url = new URL(link!);
    return `${url.pathname}${url.search}`;
  }

  async function auditActions(signed: Signed): Promise<{ action: string; actorLabel: string; details: Record<string, unknown> }[]> {
    return (await signed.browser.json<{ events: { action: string; actorLabel: string; details: Record<string, unknown> }[] }>('/api/audit')).body.events;
  }

  beforeAll(async () => {
    server = await startTestServer({ database: await open(), pagerduty: PAGERDUTY });
    const setup = await new TestBrowser(server.url).json<{ user: { id: string } }>('/api/setup', { method: 'POST', json: OWNER });
    expect(setup.status).toBe(201);
    userIds.set(OWNER.email, setup.body.user.id);
    const { db } = server.database;
    alphaId = (await db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
    for (const [person, role] of [
      [ADMIN, 'admin'],
      [MEMBER, 'member'],
    ] as const) {
      const user = await insertUser(db, { organizationId: alphaId, email: person.email, name: person.email, passwordHash: await hashPassword(person.password), role });
      userIds.set(person.email, user.id);
    }
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it('user creates and switches organizations', async () => {
    const owner = await signIn(OWNER);
    expect(owner.session.organizations).toEqual([{ id: alphaId, name: 'Alpha', role: 'owner' }]);

    const created = await send<SessionBody>(owner, 'POST', '/api/organizations', { name: 'Beta' });
    expect(created.status).toBe(201);
    const betaId = created.body.organization.id;
    expect(created.body.user.role).toBe('owner');
    expect(created.body.organizations.map((organization) => organization.name)).toEqual(['Alpha', 'Beta']);
    const inBeta = await owner.browser.json<{ members: { email: string }[] }>('/api/members');
    expect(inBeta.body.members.map((member) => member.email)).toEqual([OWNER.email]);

    const back = await send<SessionBody>(owner, 'PUT', '/api/session/organization', { organizationId: alphaId });
    expect(back.status).toBe(200);
    expect(back.body.organization.id).toBe(alphaId);
    const inAlpha = await owner.browser.json<{ members: { email: string }[] }>('/api/members');
    expect(inAlpha.body.members.map((member) => member.email).sort()).toEqual([ADMIN.email, MEMBER.email, OWNER.email].sort());

    // Sign-in opens the organization used last.
    await send(owner, 'PUT', '/api/session/organization', { organizationId: betaId });
    expect((await signIn(OWNER)).session.organization.id).toBe(betaId);
    await send(owner, 'PUT', '/api/session/organization', { organizationId: alphaId });

    const audit = await auditActions(await signIn(OWNER));
    expect(audit.map((event) => event.action)).toContain('session.signed_in');
  });

  it('foreign organization cannot be entered', async () => {
    const member = await signIn(MEMBER);
    const beta = await server.database.db.selectFrom('organizations').select('id').where('name', '=', 'Beta').executeTakeFirstOrThrow();
    const response = await send<{ error: { code: string } }>(member, 'PUT', '/api/session/organization', { organizationId: beta.id });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('organization_not_found');
    expect((await member.browser.json<SessionBody>('/api/session')).body.organization.id).toBe(alphaId);
  });

  it('admin role rules hold', async () => {
    const admin = await signIn(ADMIN);
    const memberId = userIds.get(MEMBER.email)!;
    const ownerId = userIds.get(OWNER.email)!;

    const makeOwner = await send<{ error: { code: string } }>(admin, 'PUT', `/api/members/${memberId}/role`, { role: 'owner' });
    expect(makeOwner.status).toBe(403);
    expect(makeOwner.body.error.code).toBe('owner_required');
    const demoteOwner = await send<{ error: { code: string } }>(admin, 'PUT', `/api/members/${ownerId}/role`, { role: 'viewer' });
    expect(demoteOwner.body.error.code).toBe('owner_required');
    const removeOwner = await send<{ error: { code: string } }>(admin, 'DELETE', `/api/members/${ownerId}`);
    expect(removeOwner.body.error.code).toBe('owner_required');
    const inviteOwner = await send<{ error: { code: string } }>(admin, 'POST', '/api/members/invites', { email: 'new-owner@alpha.test', role: 'owner' });
    expect(inviteOwner.body.error.code).toBe('owner_required');

    const toViewer = await send<{ member: { role: string } }>(admin, 'PUT', `/api/members/${memberId}/role`, { role: 'viewer' });
    expect(toViewer.status).toBe(200);
    expect(toViewer.body.member.role).toBe('viewer');
    const memberSession = await signIn(MEMBER);
    expect(memberSession.session.user.role).toBe('viewer');
    const back = await send(admin, 'PUT', `/api/members/${memberId}/role`, { role: 'member' });
    expect(back.status).toBe(200);

    const unknown = await send<{ error: { code: string } }>(admin, 'PUT', '/api/members/00000000-0000-4000-8000-000000000000/role', { role: 'viewer' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('member_not_found');
  });

  it('last owner stays an owner', async () => {
    const owner = await signIn(OWNER);
    const ownerId = userIds.get(OWNER.email)!;
    const adminId = userIds.get(ADMIN.email)!;

    const demoteSelf = await send<{ error: { code: string; message: string } }>(owner, 'PUT', `/api/members/${ownerId}/role`, { role: 'admin' });
    expect(demoteSelf.status).toBe(409);
    expect(demoteSelf.body.error.code).toBe('last_owner');
    const leave = await send<{ error: { code: string } }>(owner, 'DELETE', `/api/members/${ownerId}`);
    expect(leave.body.error.code).toBe('last_owner');

    expect((await send(owner, 'PUT', `/api/members/${adminId}/role`, { role: 'owner' })).status).toBe(200);
    expect((await send(owner, 'PUT', `/api/members/${ownerId}/role`, { role: 'admin' })).status).toBe(200);
    const newOwner = await signIn(ADMIN);
    expect((await send(newOwner, 'PUT', `/api/members/${ownerId}/role`, { role: 'owner' })).status).toBe(200);
    expect((await send(newOwner, 'PUT', `/api/members/${adminId}/role`, { role: 'admin' })).status).toBe(200);

    const audit = await auditActions(owner);
    const roleChanges = audit.filter((event) => event.action === 'member.role_changed').map((event) => event.details);
    expect(roleChanges).toContainEqual({ email: ADMIN.email, from: 'admin', to: 'owner' });
    expect(roleChanges).toContainEqual({ email: OWNER.email, from: 'owner', to: 'admin' });
  });

  it('concurrent demotions keep an owner', async () => {
    const owner = await signIn(OWNER);
    const ownerId = userIds.get(OWNER.email)!;
    const adminId = userIds.get(ADMIN.email)!;
    expect((await send(owner, 'PUT', `/api/members/${adminId}/role`, { role: 'owner' })).status).toBe(200);
    const second = await signIn(ADMIN);

    const results = await Promise.all([
      send(owner, 'PUT', `/api/members/${adminId}/role`, { role: 'admin' }),
      send(second, 'PUT', `/api/members/${ownerId}/role`, { role: 'admin' }),
    ]);
    // One demotion wins. The other finds either the last owner (409) or, once its own demotion
    // landed first, an actor who is no longer an owner (403).
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 200).length).toBe(1);
    expect(statuses.filter((status) => status === 403 || status === 409).length).toBe(1);
    const owners = await server.database.db.selectFrom('memberships').select('user_id').where('organization_id', '=', alphaId).where('role', '=', 'owner').execute();
    expect(owners.length).toBe(1);

    // Restore Olga as the only owner and Adam as admin for the later cases.
    const remainingOwner = owners[0]!.user_id === ownerId ? owner : await signIn(ADMIN);
    if (owners[0]!.user_id !== ownerId) {
      expect((await send(remainingOwner, 'PUT', `/api/members/${ownerId}/role`, { role: 'owner' })).status).toBe(200);
      expect((await send(await signIn(OWNER), 'PUT', `/api/members/${adminId}/role`, { role: 'admin' })).status).toBe(200);
    }
  });

  it('existing user joins another organization', async () => {
    const owner = await signIn(OWNER);
    const created = await send<SessionBody>(owner, 'POST', '/api/organizations', { name: 'Gamma' });
    const gammaId = created.body.organization.id;
    const invited = await send<{ id: string }>(owner, 'POST', '/api/members/invites', { email: MEMBER.email, role: 'viewer' });
    expect(invited.status).toBe(201);
    const link = await joinLinkFor(owner, MEMBER.email);

    const page = await new TestBrowser(server.url).request(link);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('You already have a Seatwise account');
    expect(html).not.toContain('name="name"');

    const token = new URL(link, server.url).searchParams.get('token')!;
    const wrong = await new TestBrowser(server.url).request('/join', { method: 'POST', form: { token, password: 'not the password' } });
    expect(wrong.status).toBe(401);

    const joiner = new TestBrowser(server.url);
    const joined = await joiner.request('/join', { method: 'POST', form: { token, password: MEMBER.password } });
    expect(joined.status).toBe(303);
    const session = await joiner.json<SessionBody>('/api/session');
    expect(session.body.organization.id).toBe(gammaId);
    expect(session.body.user.role).toBe('viewer');
    expect(session.body.organizations.map((organization) => `${organization.name}:${organization.role}`)).toEqual(['Alpha:member', 'Gamma:viewer']);

    const replay = await new TestBrowser(server.url).request('/join', { method: 'POST', form: { token, password: MEMBER.password } });
    expect(replay.status).toBe(410);
    const again = await send<{ error: { code: string } }>(owner, 'POST', '/api/members/invites', { email: MEMBER.email, role: 'member' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_member');
    await send(owner, 'PUT', '/api/session/organization', { organizationId: alphaId });
  });

  it('new person joins with a password', async () => {
    const owner = await signIn(OWNER);
    expect((await send(owner, 'POST', '/api/members/invites', { email: 'nina@alpha.test', role: 'member' })).status).toBe(201);
    const link = await joinLinkFor(owner, 'nina@alpha.test');
    const token = new URL(link, server.url).searchParams.get('token')!;
    const html = await (await new TestBrowser(server.url).request(link)).text();
    expect(html).toContain('name="name"');

    const short = await new TestBrowser(server.url).request('/join', { method: 'POST', form: { token, name: 'Nina', password: 'short' } });
    expect(short.status).toBe(400);
    const joiner = new TestBrowser(server.url);
    expect((await joiner.request('/join', { method: 'POST', form: { token, name: 'Nina New', password: 'nina new password' } })).status).toBe(303);
    expect((await joiner.json<SessionBody>('/api/session')).body.user.role).toBe('member');
  });

  it('pending invites list and revoke', async () => {
    const admin = await signIn(ADMIN);
    expect((await send(admin, 'POST', '/api/members/invites', { email: 'pending@alpha.test', role: 'viewer' })).status).toBe(201);
    expect((await send(admin, 'POST', '/api/members/invites', { email: 'pending@alpha.test', role: 'member' })).status).toBe(201);
    const listed = await admin.browser.json<{ invites: { id: string; email: string; role: string }[] }>('/api/members/invites');
    const pending = listed.body.invites.filter((invite) => invite.email === 'pending@alpha.test');
    expect(pending.map((invite) => invite.role)).toEqual(['member']);
    const link = await joinLinkFor(admin, 'pending@alpha.test');

    const revoked = await send(admin, 'DELETE', `/api/members/invites/${pending[0]!.id}`);
    expect(revoked.status).toBe(204);
    expect((await new TestBrowser(server.url).request(link)).status).toBe(410);
    const listedAfter = await admin.browser.json<{ invites: { email: string }[] }>('/api/members/invites');
    expect(listedAfter.body.invites.map((invite) => invite.email)).not.toContain('pending@alpha.test');
    const twice = await send<{ error: { code: string } }>(admin, 'DELETE', `/api/members/invites/${pending[0]!.id}`);
    expect(twice.status).toBe(404);
    expect(twice.body.error.code).toBe('invite_not_found');

    const actions = (await auditActions(admin)).map((event) => `${event.action}:${String(event.details.email)}`);
    expect(actions).toContain('member.invited:pending@alpha.test');
    expect(actions).toContain('member.invite_revoked:pending@alpha.test');
  });

  it('removed member loses access at once', async () => {
    const owner = await signIn(OWNER);
    const member = await signIn(MEMBER);
    expect((await send(member, 'PUT', '/api/session/organization', { organizationId: alphaId })).status).toBe(200);
    expect((await member.browser.request('/api/overview')).status).toBe(200);

    const removed = await send(owner, 'DELETE', `/api/members/${userIds.get(MEMBER.email)!}`);
    expect(removed.status).toBe(204);
    const after = await member.browser.json<{ error: { code: string } }>('/api/overview');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('session_required');

    // The other membership remains, so the next sign-in opens it.
    const again = await signIn(MEMBER);
    expect(again.session.organizations.map((organization) => organization.name)).toEqual(['Gamma']);
    expect(again.session.organization.name).toBe('Gamma');
    const audit = await auditActions(owner);
    expect(audit.find((event) => event.action === 'member.removed')).toMatchObject({ actorLabel: OWNER.email, details: { email: MEMBER.email, role: 'member' } });
  });

  it('user without organization cannot sign in', async () => {
    const nina = await signIn({ email: 'nina@alpha.test', password: 'nina new password' });
    const leave = await send(nina, 'DELETE', `/api/members/${nina.session.user.id}`);
    expect(leave.status).toBe(403);

    const owner = await signIn(OWNER);
    expect((await send(owner, 'DELETE', `/api/members/${nina.session.user.id}`)).status).toBe(204);
    const response = await new TestBrowser(server.url).json<{ error: { code: string; message: string } }>('/api/session', {
      method: 'POST',
      json: { email: 'nina@alpha.test', password: 'nina new password' },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('no_organization');
    expect(response.body.error.message).toContain('invite you again');
  });
});
