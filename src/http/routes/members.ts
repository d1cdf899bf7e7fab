import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import { acceptMemberInvite, createMemberInviteToken, MEMBER_INVITE_LIFETIME_MS, readMemberInvite } from '../../accounts/member-invites.ts';
import { MIN_PASSWORD_LENGTH } from '../../accounts/passwords.ts';
import { isEmailTaken } from '../../accounts/repository.ts';
import { createSession } from '../../accounts/sessions.ts';
import { requireSession, setSessionCookie } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { escapeHtml, renderPage } from '../pages.ts';

const JOIN_PATH = '/join';

/** Registers the invitations to join an organization as a Seatwise user. */
export async function registerMemberRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const isDemo = context.deps.demo !== null;

  routes.post('/api/members/invites', {
    config: { access: 'admin' },
    schema: {
      summary: 'Invite someone by mail to join the organization with a role',
      body: z.object({ email: z.email('must be an email address').max(320), role: z.enum(['admin', 'member', 'viewer']) }),
      response: { 201: z.object({ email: z.string(), role: z.string(), expiresAt: z.string() }) },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      if (await isEmailTaken(db, request.body.email)) throw new ApiError('email_taken');

      const token = await createMemberInviteToken(db, {
        organizationId: session.organization.id,
        inviterUserId: session.user.id,
        email: request.body.email,
        role: request.body.role,
      });
      const days = Math.round(MEMBER_INVITE_LIFETIME_MS / 86_400_000);
      await context.mailer.send({
        organizationId: session.organization.id,
        to: request.body.email,
        subject: `${session.user.name} invites you to ${session.organization.name} on Seatwise`,
        text: `${session.user.name} (${session.user.email}) invites you to join ${session.organization.name} on Seatwise as ${request.body.role}. Open this link within ${days} days to choose your password; it works once:\n${context.publicUrl()}${JOIN_PATH}?token=${encodeURIComponent(token)}`,
      });
      await recordAuditEvent(db, {
        organizationId: session.organization.id,
        actorUserId: session.user.id,
        actorLabel: session.user.email,
        action: 'member.invited',
        details: { email: request.body.email, role: request.body.role },
      });
      reply.code(201);
      return { email: request.body.email, role: request.body.role, expiresAt: new Date(Date.now() + MEMBER_INVITE_LIFETIME_MS).toISOString() };
    },
  });

  routes.get(JOIN_PATH, {
    config: { access: 'public' },
    schema: { summary: 'The page a join link opens (HTML): choose a name and password', querystring: z.object({ token: z.string().max(2048).optional() }) },
    handler: async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
      const invite = await readMemberInvite(db, request.query.token ?? '');
      if (!invite.ok) return reply.code(410).send(renderPage('This invitation no longer works', `<p>${escapeHtml(INVALID_JOIN_MESSAGE)}</p>`, { isDemo }));

      const body = [
        `<p>Join ${escapeHtml(invite.value.organizationName)} on Seatwise as ${escapeHtml(invite.value.role)}, signing in as ${escapeHtml(invite.value.email)}.</p>`,
        `<form method="post" action="${JOIN_PATH}">`,
        `<input type="hidden" name="token" value="${escapeHtml(request.query.token ?? '')}">`,
        '<p><label>Your name <input name="name" required maxlength="200" autocomplete="name"></label></p>',
        `<p><label>Password (at least ${MIN_PASSWORD_LENGTH} characters) <input name="password" type="password" required minlength="${MIN_PASSWORD_LENGTH}" autocomplete="new-password"></label></p>`,
        '<p><button type="submit">Join</button></p>',
        '</form>',
      ].join('\n');
      return reply.send(renderPage(`Join ${invite.value.organizationName}`, body, { isDemo }));
    },
  });

  await app.register(async (forms) => {
    await forms.register(formbody);
    forms.withTypeProvider<ZodTypeProvider>().post(JOIN_PATH, {
      config: { access: 'public' },
      schema: {
        summary: 'Create the invited account and sign it in; answers 303 to the catalog',
        consumes: ['application/x-www-form-urlencoded'],
        body: z.object({
          token: z.string().min(1).max(2048),
          name: z.string().trim().min(1).max(200),
          password: z.string().min(MIN_PASSWORD_LENGTH, `must have at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
        }),
      },
      handler: async (request, reply) => {
        const accepted = await acceptMemberInvite(db, request.body.token, { name: request.body.name, password: request.body.password });
        if (!accepted.ok) {
          const message = accepted.error === 'email_taken' ? 'An account with this email address already exists. Sign in instead.' : INVALID_JOIN_MESSAGE;
          return reply.code(410).type('text/html; charset=utf-8').send(renderPage('This invitation no longer works', `<p>${escapeHtml(message)}</p>`, { isDemo }));
        }

        const user = accepted.value;
        const session = await createSession(db, user);
        setSessionCookie(reply, session, context.isSecure());
        await recordAuditEvent(db, { organizationId: user.organizationId, actorUserId: user.id, actorLabel: user.email, action: 'member.joined', details: { role: user.role } });
        return reply.redirect('/catalog', 303);
      },
    });
  });
}

const INVALID_JOIN_MESSAGE = 'This invitation link expired or is not valid. Ask the person who invited you for a new one.';
