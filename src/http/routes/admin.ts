import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAuditEvents, recordAuditEvent } from '../../accounts/audit.ts';
import { connectWithApiKey } from '../../connections/connect.ts';
import { disconnectConnection, findPagerDutyConnection } from '../../connections/repository.ts';
import { listOutbox } from '../../mail/mailer.ts';
import { requireSession } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { escapeHtml, renderPage } from '../pages.ts';

/** Maximum number of entries the audit log and outbox return. */
const LIST_LIMIT = 200;

/** How to remove Seatwise's grant on PagerDuty's side, which Seatwise cannot do through the API. */
const REMOVE_GRANT_INSTRUCTIONS =
  'Seatwise deleted its PagerDuty tokens. To remove the grant in PagerDuty as well, open PagerDuty, go to Integrations, then Apps (or your user profile’s authorized apps), and remove Seatwise.';

const outboxMessageSchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  transport: z.enum(['smtp', 'outbox']),
  sentAt: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: z.string(),
});

/** Settings-level routes: disconnect, the audit log and the mail outbox. */
export function registerAdminRoutes(app: FastifyInstance, context: RouteContext): void {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.delete('/api/apps/pagerduty/connection', {
    config: { access: 'admin' },
    schema: {
      summary: 'Disconnect PagerDuty: delete the tokens and keep or delete the synced data',
      querystring: z.strictObject({ keepData: z.enum(['true', 'false']).default('true').describe('Keep the synced data for later reconnects') }),
      response: { 200: z.object({ keptData: z.boolean(), instructions: z.string() }) },
    },
    handler: async (request) => {
      const session = requireSession(request);
      const connection = await findPagerDutyConnection(db, session.organization.id);
      if (!connection || connection.status === 'disconnected') throw new ApiError('not_connected');

      const keepData = request.query.keepData === 'true';
      await disconnectConnection(db, connection, { keepData, reason: `Disconnected by ${session.user.name}` });
      await recordAuditEvent(db, {
        organizationId: session.organization.id,
        actorUserId: session.user.id,
        actorLabel: session.user.email,
        action: 'pagerduty.disconnected',
        details: { subdomain: connection.subdomain, keptData: keepData },
      });
      return { keptData: keepData, instructions: REMOVE_GRANT_INSTRUCTIONS };
    },
  });

  routes.post('/api/apps/pagerduty/api-key', {
    config: { access: 'admin' },
    schema: {
      summary: 'Connect PagerDuty with an account REST API key instead of OAuth',
      body: z.object({
        apiKey: z.string().trim().min(8).max(200).regex(/^[A-Za-z0-9_+=-]+$/, 'must be a PagerDuty API key'),
        confirmAccountSwitch: z
          .literal(true)
          .optional()
          .describe('Set when the user confirmed that the key’s account may replace the connected one, whose data is then archived'),
      }),
      response: { 201: z.object({ connectionId: z.string(), isAccountSwitched: z.boolean() }) },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const result = await connectWithApiKey(context.connect, {
        organizationId: session.organization.id,
        userId: session.user.id,
        userLabel: session.user.email,
        apiKey: request.body.apiKey,
        isAccountSwitchConfirmed: request.body.confirmAccountSwitch === true,
      });
      if (!result.ok) throw new ApiError(result.error.code, result.error.message);
      reply.code(201);
      return { connectionId: result.value.connectionId, isAccountSwitched: result.value.isAccountSwitched };
    },
  });

  routes.get('/api/audit', {
    config: { access: 'admin' },
    schema: {
      summary: 'The audit log of Seatwise actions, newest first',
      response: {
        200: z.object({
          events: z.array(z.object({ id: z.string(), actorLabel: z.string(), action: z.string(), details: z.record(z.string(), z.unknown()), createdAt: z.string() })),
        }),
      },
    },
    handler: async (request) => ({ events: await listAuditEvents(db, requireSession(request).organization.id, LIST_LIMIT) }),
  });

  routes.get('/api/outbox', {
    config: { access: 'admin' },
    schema: {
      summary: 'Mail Seatwise sent or, without SMTP, would have sent',
      response: { 200: z.object({ transport: z.enum(['smtp', 'outbox']), messages: z.array(outboxMessageSchema) }) },
    },
    handler: async (request) => ({
      transport: context.mailer.transport,
      messages: await listOutbox(db, context.deps.vault, requireSession(request).organization.id, LIST_LIMIT),
    }),
  });

  routes.get('/outbox', {
    config: { access: 'admin' },
    schema: { summary: 'The mail outbox as a page (HTML)' },
    handler: async (request, reply) => {
      const messages = await listOutbox(db, context.deps.vault, requireSession(request).organization.id, LIST_LIMIT);
      const items = messages.map(
        (message) =>
          `<article><h2>${escapeHtml(message.subject)}</h2><p>To ${escapeHtml(message.to)}, ${escapeHtml(message.createdAt)}</p><pre>${escapeHtml(message.text)}</pre></article>`,
      );
      const intro =
        context.mailer.transport === 'outbox'
          ? '<p>No SMTP server is configured (SEATWISE_SMTP_URL), so Seatwise sends no mail. Every message it would have sent is listed here.</p>'
          : '<p>Every message Seatwise sent.</p>';
      const body = `${intro}${items.length === 0 ? '<p>No messages yet.</p>' : items.join('\n')}`;
      reply.header('cache-control', 'no-store');
      return reply.type('text/html; charset=utf-8').send(renderPage('Outbox', body, { isDemo: context.deps.demo !== null }));
    },
  });
}
