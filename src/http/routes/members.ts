import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import { acceptMemberInvite, createMemberInvite, listPendingMemberInvites, MEMBER_INVITE_LIFETIME_MS, readMemberInvite, revokeMemberInvite } from '../../accounts/member-invites.ts';
import { canAssignRole, changeMemberRole, listMembers, removeMember, type Member, type MembershipChangeError } from '../../accounts/members.ts';
import { MIN_PASSWORD_LENGTH } from '../../accounts/passwords.ts';
import { findAccountForSignIn, findUser, markMembershipUsed } from '../../accounts/repository.ts';
import { recordSuccessfulSignIn, reserveSignInAttempt } from '../../accounts/sign-in-limit.ts';
import { ROLES } from '../../accounts/roles.ts';
import { createSession, type ActiveSession } from '../../accounts/sessions.ts';
import { requireSession, setSessionCookie } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { escapeHtml, renderPage } from '../pages.ts';

const JOIN_PATH = '/join';

const memberSchema = z.object({ userId: z.string(), name: z.string(), email: z.string(), role: z.enum(ROLES), joinedAt: z.string() });
const inviteSchema = z.object({ id: z.string(), email: z.string(), role: z.enum(ROLES), inviterName: z.string().nullable(), expiresAt: z.string(), createdAt: z.string() });
const userIdParams = z.object({ userId: z.uuid('must be a user id') });

function memberView(member: Member): z.input<typeof memberSchema> {
  return { userId: member.userId, name: member.name, email: member.email, role: member.role, joinedAt: member.joinedAt.toISOString() };
}

function membershipError(error: MembershipChangeError): ApiError {
  switch (error) {
    // The target left or was removed since the list was loaded.
    case 'not_found':
      return new ApiError('member_not_found');
    // The session's role was read before a concurrent change demoted the actor.
    case 'admin_required':
      return new ApiError('role_forbidden');
    // Admins manage admins, members and viewers; owners are managed by owners.
    case 'owner_required':
      return new ApiError('owner_required');
    // Every organization keeps at least one owner who can manage it.
    case 'last_owner':
      return new ApiError('last_owner');
    default: {
      const unreachable: never = error;
      throw new Error(`Unknown membership error ${String(unreachable)}`);
    }
  }
}

/** Registers the members of an organization, their roles, and the invitations to join it. */
export async function registerMemberRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const isDemo = context.deps.demo !== null;

  const audit = (session: ActiveSession, action: 'member.invited' | 'member.invite_revoked' | 'member.role_changed' | 'member.removed', details: Record<string, string>) =>
    recordAuditEvent(db, { organizationId: session.organization.id, actorUserId: session.user.id, actorLabel: session.user.email, action, details });

  routes.get('/api/members', {
    config: { access: 'viewer' },
    schema: { summary: 'The members of the organization with their roles', response: { 200: z.object({ members: z.array(memberSchema) }) } },
    handler: async (request) => ({ members: (await listMembers(db, requireSession(request).organization.id)).map(memberView) }),
  });

  routes.put('/api/members/:userId/role', {
    config: { access: 'admin' },
    schema: {
      summary: 'Change a member’s role; only owners give or take the owner role, and one owner always remains',
      params: userIdParams,
      body: z.object({ role: z.enum(ROLES) }),
      response: { 200: z.object({ member: memberSchema }) },
    },
    handler: async (request) => {
      const session = requireSession(request);
      const changed = await changeMemberRole(db, { organizationId: session.organization.id, actor: session.user, userId: request.params.userId, role: request.body.role });
      if (!changed.ok) throw membershipError(changed.error);

      const { member, previousRole } = changed.value;
      await audit(session, 'member.role_changed', { email: member.email, from: previousRole, to: member.role });
      return { member: memberView(member) };
    },
  });

  routes.delete('/api/members/:userId', {
    config: { access: 'admin' },
    schema: {
      summary: 'Remove a member from the organization; their sessions in it end at once',
      params: userIdParams,
      response: { 204: z.null().describe('Removed') },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const removed = await removeMember(db, { organizationId: session.organization.id, actor: session.user, userId: request.params.userId });
      if (!removed.ok) throw membershipError(removed.error);

      await audit(session, 'member.removed', { email: removed.value.email, role: removed.value.role });
      return reply.code(204).send(null);
    },
  });

  routes.get('/api/members/invites', {
    config: { access: 'admin' },
    schema: { summary: 'The pending invitations to join the organization, newest first', response: { 200: z.object({ invites: z.array(inviteSchema) }) } },
    handler: async (request) => {
      const invites = await listPendingMemberInvites(db, requireSession(request).organization.id);
      return {
        invites: invites.map((invite) => ({
          id: invite.id,
          email: invite.email,
          role: invite.role,
          inviterName: invite.inviterName,
          expiresAt: invite.expiresAt.toISOString(),
          createdAt: invite.createdAt.toISOString(),
        })),
      };
    },
  });

  routes.post('/api/members/invites', {
    config: { access: 'admin' },
    schema: {
      summary: 'Invite someone by mail to join the organization with a role; a person with an account joins with it',
      body: z.object({ email: z.email('must be an email address').max(320), role: z.enum(ROLES) }),
      response: { 201: z.object({ id: z.string(), email: z.string(), role: z.string(), expiresAt: z.string() }) },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      if (!canAssignRole(session.user.role, request.body.role)) throw new ApiError('owner_required');
      const account = await findAccountForSignIn(db, request.body.email);
      if (account && (await findUser(db, session.organization.id, account.account.id))) throw new ApiError('already_member');

      const invite = await createMemberInvite(db, {
        organizationId: session.organization.id,
        inviterUserId: session.user.id,
        email: request.body.email,
        role: request.body.role,
      });
      const days = Math.round(MEMBER_INVITE_LIFETIME_MS / 86_400_000);
      const link = `${context.publicUrl()}${JOIN_PATH}?token=${encodeURIComponent(invite.token)}`;
      await context.mailer.send({
        organizationId: session.organization.id,
        to: request.body.email,
        subject: `${session.user.name} invites you to ${session.organization.name} on Seatwise`,
        text: `${session.user.name} (${session.user.email}) invites you to join ${session.organization.name} on Seatwise as ${request.body.role}. Open this link within ${days} days; it works once:\n${link}`,
      });
      await audit(session, 'member.invited', { email: request.body.email, role: request.body.role });
      reply.code(201);
      return { id: invite.id, email: request.body.email, role: request.body.role, expiresAt: invite.expiresAt.toISOString() };
    },
  });

  routes.delete('/api/members/invites/:inviteId', {
    config: { access: 'admin' },
    schema: {
      summary: 'Revoke a pending invitation, so its link stops working',
      params: z.object({ inviteId: z.uuid('must be an invitation id') }),
      response: { 204: z.null().describe('Revoked') },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const revoked = await revokeMemberInvite(db, session.organization.id, request.params.inviteId);
      if (!revoked.ok) throw new ApiError('invite_not_found');

      await audit(session, 'member.invite_revoked', { email: revoked.value.email, role: revoked.value.role });
      return reply.code(204).send(null);
    },
  });

  routes.get(JOIN_PATH, {
    config: { access: 'public' },
    schema: { summary: 'The page a join link opens (HTML): choose a name and password, or enter the existing account’s', querystring: z.object({ token: z.string().max(2048).optional() }) },
    handler: async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
      const token = request.query.token ?? '';
      const invite = await readMemberInvite(db, token);
      if (!invite.ok) return reply.code(410).send(renderPage('This invitation no longer works', `<p>${escapeHtml(INVALID_JOIN_MESSAGE)}</p>`, { isDemo }));

      const { organizationName, role, email, hasAccount } = invite.value;
      const accountFields = hasAccount
        ? [
            `<p>You already have a Seatwise account as ${escapeHtml(email)}. Enter its password to add ${escapeHtml(organizationName)} to your organizations.</p>`,
            '<p><label>Password <input name="password" type="password" required autocomplete="current-password"></label></p>',
          ]
        : [
            '<p><label>Your name <input name="name" required maxlength="200" autocomplete="name"></label></p>',
            `<p><label>Password (at least ${MIN_PASSWORD_LENGTH} characters) <input name="password" type="password" required minlength="${MIN_PASSWORD_LENGTH}" autocomplete="new-password"></label></p>`,
          ];
      const body = [
        `<p>Join ${escapeHtml(organizationName)} on Seatwise as ${escapeHtml(role)}, signing in as ${escapeHtml(email)}.</p>`,
        `<form method="post" action="${JOIN_PATH}">`,
        `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
        ...accountFields,
        '<p><button type="submit">Join</button></p>',
        '</form>',
      ].join('\n');
      return reply.send(renderPage(`Join ${organizationName}`, body, { isDemo }));
    },
  });

  await app.register(async (forms) => {
    await forms.register(formbody);
    forms.withTypeProvider<ZodTypeProvider>().post(JOIN_PATH, {
      config: { access: 'public' },
      schema: {
        summary: 'Accept an invitation and sign in to the organization; answers 303 to the catalog',
        consumes: ['application/x-www-form-urlencoded'],
        body: z.object({
          token: z.string().min(1).max(2048),
          name: z.string().trim().min(1).max(200).optional(),
          password: z.string().min(1).max(1024),
        }),
      },
      handler: async (request, reply) => {
        const html = (status: number, title: string, message: string) =>
          reply.code(status).type('text/html; charset=utf-8').send(renderPage(title, `<p>${escapeHtml(message)}</p>`, { isDemo }));

        const opened = await readMemberInvite(db, request.body.token);
        if (!opened.ok) return html(410, 'This invitation no longer works', INVALID_JOIN_MESSAGE);
        if (!opened.value.hasAccount && (request.body.name === undefined || request.body.password.length < MIN_PASSWORD_LENGTH)) {
          return html(400, 'Choose a name and password', `Enter your name and a password of at least ${MIN_PASSWORD_LENGTH} characters, then open the invitation link again.`);
        }

        // A password typed here is a sign-in attempt on the existing account and counts against the same limit.
        const attemptKeys = { email: opened.value.email, clientAddress: request.ip };
        if (opened.value.hasAccount) {
          const reserved = await reserveSignInAttempt(db, attemptKeys);
          if (!reserved.ok) {
            request.log.warn({ inviteId: opened.value.id, scope: reserved.error.scope }, 'Rejected an invitation password over the attempt limit');
            return html(429, 'Too many attempts', `Too many sign-in attempts for this account. Try again after ${reserved.error.retryAt.toISOString().slice(11, 16)} UTC.`);
          }
        }

        const accepted = await acceptMemberInvite(db, request.body.token, { name: request.body.name ?? null, password: request.body.password });
        if (!accepted.ok) {
          request.log.info({ inviteId: opened.value.id, reason: accepted.error }, 'Rejected the acceptance of an invitation');
          return html(accepted.error === 'wrong_password' ? 401 : 410, 'The invitation was not accepted', JOIN_ERROR_MESSAGES[accepted.error]);
        }

        const user = accepted.value;
        if (opened.value.hasAccount) await recordSuccessfulSignIn(db, attemptKeys);
        const session = await createSession(db, user);
        await markMembershipUsed(db, user.organizationId, user.id);
        setSessionCookie(reply, session, context.isSecure());
        await recordAuditEvent(db, { organizationId: user.organizationId, actorUserId: user.id, actorLabel: user.email, action: 'member.joined', details: { role: user.role } });
        return reply.redirect('/catalog', 303);
      },
    });
  });
}

const INVALID_JOIN_MESSAGE = 'This invitation link expired, was revoked or was already used. Ask the person who invited you for a new one.';

const JOIN_ERROR_MESSAGES = {
  invalid: INVALID_JOIN_MESSAGE,
  wrong_password: 'The password is wrong. Open the invitation link again and enter the password of your Seatwise account, or reset it from the sign-in page.',
  already_member: 'You are already a member of this organization. Sign in to open it.',
  email_taken: 'An account with this email address was created at the same moment. Open the invitation link again and enter its password.',
} as const;
