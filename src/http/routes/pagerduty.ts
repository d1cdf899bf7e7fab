import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import { hashToken } from '../../accounts/tokens.ts';
import { completeConnect, CONNECT_RESULTS, DEFAULT_RETURN_PATH, startConnect } from '../../connections/connect.ts';
import { findPagerDutyConnection } from '../../connections/repository.ts';
import { presentConnectionCard } from '../../dashboard/connection-card.ts';
import { requireSession, SESSION_COOKIE } from '../access.ts';
import { CALLBACK_PATH, INVITE_COOKIE } from '../paths.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { connectionCardSchema } from '../schemas.ts';
import { safeReturnPath } from '../return-path.ts';
import { notifyInviter } from './invites.ts';

const CONNECTION_STATES = ['not_connected', 'connected', 'syncing', 'needs_reconnect', 'error'] as const;

/** The PagerDuty app: catalog entry, connections card, Connect, the OAuth callback and sync. */
export async function registerPagerDutyRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/api/apps', {
    config: { access: 'viewer' },
    schema: {
      summary: 'The apps Seatwise can connect, with their connection state',
      response: {
        200: z.object({
          apps: z.array(z.object({ key: z.literal('pagerduty'), name: z.string(), description: z.string(), connectionState: z.enum(CONNECTION_STATES) })),
        }),
      },
    },
    handler: async (request) => {
      const session = requireSession(request);
      const card = await presentConnectionCard(db, session.organization.id, { role: session.user.role, supportEmail: supportEmailOf(context, session) });
      return {
        apps: [
          {
            key: 'pagerduty' as const,
            name: 'PagerDuty',
            description: 'Incident response and on-call. Seatwise reads users, licenses and activity to show which seats and features are really used.',
            connectionState: card.state,
          },
        ],
      };
    },
  });

  routes.get('/api/apps/pagerduty/card', {
    config: { access: 'viewer' },
    schema: {
      summary: 'The PagerDuty connections card',
      querystring: z.object({ result: z.string().max(64).optional().describe('The result code of an OAuth redirect') }),
      response: { 200: connectionCardSchema },
    },
    handler: async (request) => {
      const session = requireSession(request);
      return presentConnectionCard(
        db,
        session.organization.id,
        { role: session.user.role, supportEmail: supportEmailOf(context, session) },
        request.query.result,
      );
    },
  });

  routes.post('/api/apps/pagerduty/sync', {
    config: { access: 'admin' },
    schema: { summary: 'Start a sync of the PagerDuty connection', response: { 202: z.object({ syncRunId: z.string() }) } },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const connection = await findPagerDutyConnection(db, session.organization.id);
      if (!connection || connection.status === 'disconnected') throw new ApiError('not_connected');
      if (connection.status === 'needs_reconnect') throw new ApiError('needs_reconnect');

      const syncRunId = await context.deps.jobs.enqueueSync(connection.id, 'manual');
      await recordAuditEvent(db, {
        organizationId: session.organization.id,
        actorUserId: session.user.id,
        actorLabel: session.user.email,
        action: 'pagerduty.sync_requested',
      });
      reply.code(202);
      return { syncRunId };
    },
  });

  routes.get(CALLBACK_PATH, {
    config: { access: 'public' },
    schema: {
      summary: 'PagerDuty redirects here after the authorize page; answers 303 to the app page with a result code',
      querystring: z.looseObject({
        code: z.string().max(2048).optional(),
        state: z.string().max(512).optional(),
        error: z.string().max(256).optional(),
        error_description: z.string().max(2048).optional(),
      }),
    },
    handler: async (request, reply) => {
      const outcome = await completeConnect(context.connect, {
        parameters: callbackParameters(request),
        browserBindingHashes: browserBindingsOf(request),
      });
      await notifyInviter(context, outcome);
      if (CONNECT_RESULTS[outcome.code].kind === 'success') {
        request.log.info({ result: outcome.code, connectionId: outcome.connectionId, organizationId: outcome.organizationId }, 'Connected PagerDuty');
      } else {
        request.log.warn({ result: outcome.code, detail: outcome.detail, organizationId: outcome.organizationId }, 'PagerDuty connect failed');
        if (outcome.organizationId !== null) {
          await recordAuditEvent(db, {
            organizationId: outcome.organizationId,
            actorUserId: request.session?.user.id ?? null,
            actorLabel: request.session?.user.email ?? 'invitee',
            action: 'pagerduty.connect_failed',
            details: { result: outcome.code },
          });
        }
      }
      return reply.redirect(withResult(outcome.returnPath, outcome.code), 303);
    },
  });

  // HTML form posts (application/x-www-form-urlencoded) are parsed only in this scope, so the
  // JSON API never accepts a body a cross-site form could send.
  await app.register(async (forms) => {
    await forms.register(formbody);
    forms.withTypeProvider<ZodTypeProvider>().post('/apps/pagerduty/connect', {
      config: { access: 'admin' },
      schema: {
        summary: 'Start the OAuth connect flow; answers 303 to PagerDuty’s authorize page',
        consumes: ['application/x-www-form-urlencoded'],
        body: z.object({
          _csrf: z.string().max(256),
          returnTo: z.string().max(512).optional().describe('A path inside Seatwise to return to'),
          confirmAccountSwitch: z
            .literal('confirmed')
            .optional()
            .describe('Set when the user confirmed that another PagerDuty account may replace the connected one, whose data is then archived'),
        }),
      },
      handler: async (request, reply) => {
        const session = requireSession(request);
        const authorizeUrl = await startConnect(context.connect, {
          organizationId: session.organization.id,
          userId: session.user.id,
          inviteId: null,
          browserBindingHash: session.tokenHash,
          redirectUri: `${context.publicUrl()}${CALLBACK_PATH}`,
          returnPath: safeReturnPath(request.body.returnTo) ?? DEFAULT_RETURN_PATH,
          isAccountSwitchConfirmed: request.body.confirmAccountSwitch === 'confirmed',
        });
        await recordAuditEvent(db, {
          organizationId: session.organization.id,
          actorUserId: session.user.id,
          actorLabel: session.user.email,
          action: 'pagerduty.connect_started',
          details: { isAccountSwitchConfirmed: request.body.confirmAccountSwitch === 'confirmed' },
        });
        return reply.redirect(authorizeUrl.toString(), 303);
      },
    });
  });
}

function supportEmailOf(context: RouteContext, session: { organization: { supportEmail: string | null } }): string {
  return session.organization.supportEmail ?? context.deps.config.supportEmail;
}

/** Returns the callback's query exactly as PagerDuty sent it, for the OAuth response checks. */
function callbackParameters(request: FastifyRequest): URLSearchParams {
  const queryStart = request.url.indexOf('?');
  return new URLSearchParams(queryStart === -1 ? '' : request.url.slice(queryStart + 1));
}

/** Returns the hashes that may bind a state to this browser: of its session token and of its invite cookie. */
function browserBindingsOf(request: FastifyRequest): string[] {
  return [request.cookies[SESSION_COOKIE], request.cookies[INVITE_COOKIE]]
    .filter((value): value is string => typeof value === 'string' && value !== '')
    .map(hashToken);
}

function withResult(returnPath: string, code: string): string {
  const url = new URL(returnPath, 'http://seatwise.invalid');
  url.searchParams.set('result', code);
  return `${url.pathname}${url.search}`;
}
