import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import { createPagerDutyInvite, findInviteById, findUsableInvite, INVITE_LIFETIME_MS, listPagerDutyInvites } from '../../accounts/invites.ts';
import { CONNECT_RESULTS, generateBrowserBinding, isConnectResultCode, startConnect, type ConnectOutcome } from '../../connections/connect.ts';
import { findPagerDutyConnection } from '../../connections/repository.ts';
import { requireSession } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { describeScope, escapeHtml, renderPage } from '../pages.ts';
import { CALLBACK_PATH, INVITE_COOKIE, INVITE_DONE_PATH } from '../paths.ts';

/** Maximum number of invites the invite list returns. */
const INVITE_LIST_LIMIT = 50;

const inviteTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, 'must be the token of an invite link');

const inviteSchema = z.object({
  id: z.string(),
  email: z.string(),
  note: z.string().nullable(),
  inviterName: z.string().nullable(),
  status: z.enum(['pending', 'used', 'expired']),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  outcomeMessage: z.string().nullable(),
  createdAt: z.string(),
});

/**
 * Registers the invite-your-PagerDuty-admin routes. A member sends a single-use, expiring link.
 * The page it opens needs no Seatwise account and runs the same OAuth flow, bound to the invite.
 */
export async function registerInviteRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const isDemo = context.deps.demo !== null;

  routes.post('/api/apps/pagerduty/invites', {
    config: { access: 'member' },
    schema: {
      summary: 'Invite a PagerDuty admin by mail to connect PagerDuty',
      body: z.object({ email: z.email('must be an email address').max(320), note: z.string().trim().max(1000).optional() }),
      response: { 201: z.object({ invite: inviteSchema }) },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const note = request.body.note === undefined || request.body.note === '' ? null : request.body.note;
      const created = await createPagerDutyInvite(db, {
        organizationId: session.organization.id,
        inviterUserId: session.user.id,
        email: request.body.email,
        note,
      });

      const link = `${context.publicUrl()}/invites/pagerduty/${created.token}`;
      const days = Math.round(INVITE_LIFETIME_MS / 86_400_000);
      await context.mailer.send({
        organizationId: session.organization.id,
        to: request.body.email,
        subject: `${session.user.name} asks you to connect PagerDuty to Seatwise`,
        text: [
          `${session.user.name} (${session.user.email}) of ${session.organization.name} asks you, as a PagerDuty admin, to connect your PagerDuty account to Seatwise.`,
          note ? `\nTheir note: ${note}\n` : '',
          `Open this link to see exactly what access is asked for and to connect. It works once and expires in ${days} days:`,
          link,
        ].join('\n'),
      });
      await recordAuditEvent(db, {
        organizationId: session.organization.id,
        actorUserId: session.user.id,
        actorLabel: session.user.email,
        action: 'pagerduty.invite_sent',
        details: { inviteId: created.id, email: request.body.email },
      });

      const invite = await findInviteById(db, session.organization.id, created.id);
      if (!invite) throw new Error(`Invite ${created.id} vanished right after it was created`);
      reply.code(201);
      return { invite: inviteView(invite) };
    },
  });

  routes.get('/api/apps/pagerduty/invites', {
    config: { access: 'member' },
    schema: { summary: 'The PagerDuty admin invites of the organization, newest first', response: { 200: z.object({ invites: z.array(inviteSchema) }) } },
    handler: async (request) => {
      const session = requireSession(request);
      return { invites: (await listPagerDutyInvites(db, session.organization.id, INVITE_LIST_LIMIT)).map(inviteView) };
    },
  });

  routes.get(INVITE_DONE_PATH, {
    config: { access: 'public' },
    schema: { summary: 'The page an invited admin sees after PagerDuty (HTML)', querystring: z.object({ result: z.string().max(64).optional() }) },
    handler: async (request, reply) => {
      const code = request.query.result;
      const result = code !== undefined && isConnectResultCode(code) ? CONNECT_RESULTS[code] : null;
      reply.clearCookie(INVITE_COOKIE, { path: '/' });
      const title = result?.kind === 'success' ? 'PagerDuty is connected' : 'PagerDuty was not connected';
      const message =
        result?.kind === 'success'
          ? 'Thank you. Seatwise now has read-only access to your PagerDuty account, and the person who invited you has been told. You can close this page.'
          : `${result?.message ?? 'The connection did not complete.'} Open the invitation link again to retry, or contact ${context.deps.config.supportEmail}.`;
      return reply.type('text/html; charset=utf-8').send(renderPage(title, `<p>${escapeHtml(message)}</p>`, { isDemo }));
    },
  });

  routes.get('/invites/pagerduty/:token', {
    config: { access: 'public' },
    schema: { summary: 'The page an invite link opens (HTML); needs no Seatwise account', params: z.object({ token: inviteTokenSchema }) },
    handler: async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
      const found = await findUsableInvite(db, request.params.token);
      if (!found.ok) return reply.code(410).send(renderPage('This invitation no longer works', `<p>${escapeHtml(unusableMessage(found.error, context))}</p>`, { isDemo }));
      const invite = found.value;

      const asker = invite.inviterName ? `${invite.inviterName} of ${invite.organizationName}` : invite.organizationName;
      const body = [
        `<p>${escapeHtml(asker)} asks you to connect your PagerDuty account to Seatwise, which shows how much of PagerDuty is really used.</p>`,
        invite.note ? `<p>Their note: ${escapeHtml(invite.note)}</p>` : '',
        `<h2>What PagerDuty will grant</h2><p>${escapeHtml(describeScope(context.deps.pagerduty.scope))}</p>`,
        '<p>Sign in to PagerDuty as an admin or the account owner for complete data. This link works once.</p>',
        `<form method="post" action="/invites/pagerduty/${escapeHtml(request.params.token)}/connect"><button type="submit">Connect</button></form>`,
      ].join('\n');
      return reply.send(renderPage(`Connect PagerDuty for ${invite.organizationName}`, body, { isDemo }));
    },
  });

  await app.register(async (forms) => {
    await forms.register(formbody);
    forms.withTypeProvider<ZodTypeProvider>().post('/invites/pagerduty/:token/connect', {
      config: { access: 'public' },
      schema: {
        summary: 'Start the OAuth connect flow for an invite; answers 303 to PagerDuty’s authorize page',
        consumes: ['application/x-www-form-urlencoded'],
        params: z.object({ token: inviteTokenSchema }),
      },
      handler: async (request, reply) => {
        const found = await findUsableInvite(db, request.params.token);
        if (!found.ok) {
          return reply
            .code(410)
            .type('text/html; charset=utf-8')
            .send(renderPage('This invitation no longer works', `<p>${escapeHtml(unusableMessage(found.error, context))}</p>`, { isDemo }));
        }

        // The state is bound to a cookie only this browser holds, as a session binds it otherwise.
        const binding = generateBrowserBinding();
        reply.setCookie(INVITE_COOKIE, binding.value, { httpOnly: true, sameSite: 'lax', path: '/', secure: context.isSecure(), maxAge: 15 * 60 });
        const authorizeUrl = await startConnect(context.connect, {
          organizationId: found.value.organizationId,
          userId: null,
          inviteId: found.value.id,
          browserBindingHash: binding.hash,
          redirectUri: `${context.publicUrl()}${CALLBACK_PATH}`,
          returnPath: INVITE_DONE_PATH,
          // An invitee cannot see which account's data Seatwise contains, so cannot confirm a switch.
          isAccountSwitchConfirmed: false,
        });
        return reply.redirect(authorizeUrl.toString(), 303);
      },
    });
  });
}

function unusableMessage(reason: 'unknown' | 'expired' | 'used', context: RouteContext): string {
  switch (reason) {
    // Unknown and expired links get the same message, so a guessed link learns nothing.
    case 'used':
      return 'This invitation was already used to connect PagerDuty. Nothing else is needed.';
    case 'expired':
    case 'unknown':
      return `This invitation link expired or is not valid. Ask the person who invited you for a new one, or contact ${context.deps.config.supportEmail}.`;
    default: {
      const unreachable: never = reason;
      throw new Error(`Unknown invite state ${String(unreachable)}`);
    }
  }
}

function inviteView(invite: Awaited<ReturnType<typeof listPagerDutyInvites>>[number]): z.input<typeof inviteSchema> {
  const status = invite.usedAt !== null ? 'used' : invite.expiresAt.getTime() <= Date.now() ? 'expired' : 'pending';
  return {
    id: invite.id,
    email: invite.email,
    note: invite.note,
    inviterName: invite.inviterName,
    status,
    expiresAt: invite.expiresAt.toISOString(),
    usedAt: invite.usedAt?.toISOString() ?? null,
    outcomeMessage: invite.outcomeMessage,
    createdAt: invite.createdAt.toISOString(),
  };
}

/** Tells the member who invited the admin how the invite ended, by mail. */
export async function notifyInviter(context: RouteContext, outcome: ConnectOutcome): Promise<void> {
  if (outcome.inviteId === null || outcome.organizationId === null || outcome.code !== 'connected') return;
  const { db } = context.deps.database;
  const invite = await findInviteById(db, outcome.organizationId, outcome.inviteId);
  if (!invite?.inviterEmail) return;

  const connection = await findPagerDutyConnection(db, outcome.organizationId);
  const who = connection?.providerUser.name ?? invite.email;
  const limited = invite.outcomeMessage ? `\n\nThe connection is limited: ${invite.outcomeMessage}` : '';
  await context.mailer.send({
    organizationId: outcome.organizationId,
    to: invite.inviterEmail,
    subject: 'PagerDuty is connected to Seatwise',
    text: `${who} accepted your invitation and connected PagerDuty (${connection?.subdomain ?? 'unknown account'}). The first sync has started.${limited}\n\n${context.publicUrl()}/apps/pagerduty`,
  });
  await recordAuditEvent(db, {
    organizationId: outcome.organizationId,
    actorUserId: null,
    actorLabel: `${invite.email} (invitee)`,
    action: 'pagerduty.invite_used',
    details: { inviteId: invite.id },
  });
}
