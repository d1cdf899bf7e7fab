import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import { createPasswordResetToken, PASSWORD_RESET_LIFETIME_MS, resetPassword } from '../../accounts/password-reset.ts';
import { MIN_PASSWORD_LENGTH } from '../../accounts/passwords.ts';
import { findLastUsedOrganizationId, findOrganization, findUser, listMemberships, markMembershipUsed } from '../../accounts/repository.ts';
import { ROLES } from '../../accounts/roles.ts';
import { clearSignInAttempts, deleteExpiredSignInAttempts, recordSuccessfulSignIn, reserveSignInAttempt, type SignInRejection } from '../../accounts/sign-in-limit.ts';
import { createSession, deleteSessionByHash, switchSessionOrganization, type ActiveSession } from '../../accounts/sessions.ts';
import { authenticate, createOrganization, isSetupRequired, setUpFirstOrganization } from '../../accounts/setup.ts';
import { clearSessionCookie, requireSession, setSessionCookie } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';

/** Password-reset mails allowed per client address and email address, per minute. */
const PASSWORD_RESET_REQUESTS_PER_MINUTE = 5;

/** Keys password-reset requests by address and the email entered, so one address cannot flood another's mailbox. */
function resetRequestKey(request: { ip: string; body: unknown }): string {
  const body = request.body as { email?: unknown } | null | undefined;
  const email = typeof body?.email === 'string' ? body.email.trim().toLowerCase() : '';
  return `${request.ip}|${email}`;
}

/** Builds the 429 message of a sign-in over its limit: the limit reached, when to retry, and how to sign in sooner. */
function signInLimitMessage(rejection: SignInRejection): string {
  const minutes = Math.max(1, Math.ceil((rejection.retryAt.getTime() - Date.now()) / 60_000));
  const until = `${rejection.retryAt.toISOString().slice(11, 16)} UTC (in ${minutes} minute${minutes === 1 ? '' : 's'})`;
  switch (rejection.scope) {
    // The email limit protects one account, and resetting its password lifts it at once.
    case 'email':
      return `Too many sign-in attempts for this email address. Try again after ${until}, or reset your password to sign in now.`;
    // The address limit protects every account from one client, so a reset does not lift it.
    case 'address':
      return `Too many sign-in attempts from your network address. Try again after ${until}.`;
    default: {
      const unreachable: never = rejection.scope;
      throw new Error(`Unknown sign-in limit ${String(unreachable)}`);
    }
  }
}

const userSchema = z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.enum(ROLES) });

export const sessionViewSchema = z.object({
  user: userSchema,
  organization: z.object({ id: z.string(), name: z.string() }),
  /** Every organization the user belongs to, for the organization menu. */
  organizations: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES) })),
  csrfToken: z.string(),
  supportEmail: z.string(),
  isDemo: z.boolean(),
  simulatorUrl: z.string().nullable(),
});

const emailSchema = z.email('must be an email address').max(320).transform((value) => value.trim());

/** Setup, sign-in and sign-out: the routes that create and end sessions. */
export function registerAccountRoutes(app: FastifyInstance, context: RouteContext): void {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  const viewOf = async (session: Pick<ActiveSession, 'user' | 'organization' | 'csrfToken'>): Promise<z.input<typeof sessionViewSchema>> => ({
    user: { id: session.user.id, name: session.user.name, email: session.user.email, role: session.user.role },
    organization: { id: session.organization.id, name: session.organization.name },
    organizations: (await listMemberships(db, session.user.id)).map((membership) => ({
      id: membership.organizationId,
      name: membership.organizationName,
      role: membership.role,
    })),
    csrfToken: session.csrfToken,
    supportEmail: session.organization.supportEmail ?? context.deps.config.supportEmail,
    isDemo: context.deps.demo !== null,
    simulatorUrl: context.deps.demo?.simulatorUrl ?? null,
  });

  /** Reads the session's user and organization again after a switch to `organizationId`. */
  const switchedSession = async (organizationId: string, session: ActiveSession): Promise<ActiveSession> => {
    const user = await findUser(db, organizationId, session.user.id);
    const organization = await findOrganization(db, organizationId);
    if (!user || !organization) throw new Error(`Session of user ${session.user.id} switched to organization ${organizationId}, which it cannot read`);
    return { ...session, user, organization };
  };

  routes.get('/api/setup', {
    config: { access: 'public' },
    schema: { summary: 'Whether Seatwise still needs its first organization', response: { 200: z.object({ isSetupRequired: z.boolean() }) } },
    handler: async () => ({ isSetupRequired: await isSetupRequired(db) }),
  });

  routes.post('/api/setup', {
    config: { access: 'public' },
    schema: {
      summary: 'Create the first organization and its owner, and sign the owner in',
      body: z.object({
        organizationName: z.string().trim().min(1).max(200),
        name: z.string().trim().min(1).max(200),
        email: emailSchema,
        password: z.string().min(MIN_PASSWORD_LENGTH, `must have at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
      }),
      response: { 201: z.object({ user: userSchema }) },
    },
    handler: async (request, reply) => {
      const result = await setUpFirstOrganization(db, request.body);
      if (!result.ok) throw new ApiError('setup_complete');
      const { user, organization } = result.value;

      const session = await createSession(db, user);
      setSessionCookie(reply, session, context.isSecure());
      await recordAuditEvent(db, { organizationId: organization.id, actorUserId: user.id, actorLabel: user.email, action: 'organization.created' });
      reply.code(201);
      return { user: { id: user.id, name: user.name, email: user.email, role: user.role } };
    },
  });

  routes.get('/api/session', {
    config: { access: 'viewer' },
    schema: { summary: 'The signed-in user, organization and CSRF token', response: { 200: sessionViewSchema } },
    handler: async (request) => viewOf(requireSession(request)),
  });

  routes.post('/api/session', {
    config: { access: 'public' },
    schema: {
      summary: 'Sign in with email and password; answers 429 with Retry-After after too many attempts',
      body: z.object({ email: emailSchema, password: z.string().min(1).max(1024) }),
      response: { 200: sessionViewSchema },
    },
    handler: async (request, reply) => {
      const attemptKeys = { email: request.body.email, clientAddress: request.ip };
      const reserved = await reserveSignInAttempt(db, attemptKeys);
      if (!reserved.ok) {
        request.log.warn({ scope: reserved.error.scope }, 'Rejected a sign-in over the attempt limit');
        reply.header('retry-after', String(Math.max(1, Math.ceil((reserved.error.retryAt.getTime() - Date.now()) / 1000))));
        throw new ApiError('rate_limited', signInLimitMessage(reserved.error));
      }

      const account = await authenticate(db, request.body.email, request.body.password);
      if (!account) {
        request.log.info('Rejected a sign-in with wrong credentials');
        throw new ApiError('invalid_credentials');
      }
      await recordSuccessfulSignIn(db, attemptKeys);
      await deleteExpiredSignInAttempts(db);

      const organizationId = await findLastUsedOrganizationId(db, account.id);
      const user = organizationId === null ? null : await findUser(db, organizationId, account.id);
      const organization = organizationId === null ? null : await findOrganization(db, organizationId);
      if (!user || !organization) {
        request.log.info({ userId: account.id }, 'Rejected a sign-in of a user who belongs to no organization');
        throw new ApiError('no_organization');
      }

      const session = await createSession(db, user);
      await markMembershipUsed(db, organization.id, user.id);
      setSessionCookie(reply, session, context.isSecure());
      await recordAuditEvent(db, { organizationId: user.organizationId, actorUserId: user.id, actorLabel: user.email, action: 'session.signed_in' });
      return viewOf({ user, organization, csrfToken: session.csrfToken });
    },
  });

  routes.put('/api/session/organization', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Switch the session to another organization the user belongs to',
      body: z.object({ organizationId: z.uuid('must be an organization id') }),
      response: { 200: sessionViewSchema },
    },
    handler: async (request) => {
      const session = requireSession(request);
      const isSwitched = await switchSessionOrganization(db, session, request.body.organizationId);
      if (!isSwitched) throw new ApiError('organization_not_found');
      return viewOf(await switchedSession(request.body.organizationId, session));
    },
  });

  routes.post('/api/organizations', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Create another organization, owned by the signed-in user, and switch the session to it',
      body: z.object({ name: z.string().trim().min(1, 'must not be empty').max(200) }),
      response: { 201: sessionViewSchema },
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const { organization } = await createOrganization(db, { name: request.body.name, account: session.user });
      await switchSessionOrganization(db, session, organization.id);
      await recordAuditEvent(db, { organizationId: organization.id, actorUserId: session.user.id, actorLabel: session.user.email, action: 'organization.created' });
      reply.code(201);
      return viewOf(await switchedSession(organization.id, session));
    },
  });

  routes.post('/api/password-reset', {
    config: {
      access: 'public',
      rateLimit: { max: PASSWORD_RESET_REQUESTS_PER_MINUTE, timeWindow: '1 minute', hook: 'preHandler', keyGenerator: resetRequestKey },
    },
    schema: {
      summary: 'Mail a password-reset link; answers the same whether or not the address has an account',
      body: z.object({ email: emailSchema }),
      response: { 202: z.object({ message: z.string() }) },
    },
    handler: async (request, reply) => {
      const created = await createPasswordResetToken(db, request.body.email);
      if (created) {
        const link = `${context.publicUrl()}/reset-password?token=${encodeURIComponent(created.token)}`;
        const minutes = Math.round(PASSWORD_RESET_LIFETIME_MS / 60_000);
        await context.mailer.send({
          organizationId: created.user.organizationId,
          to: created.user.email,
          subject: 'Reset your Seatwise password',
          text: `Someone asked to reset the Seatwise password of ${created.user.email}. If it was you, open this link within ${minutes} minutes; it works once:\n${link}\n\nIf it was not you, ignore this message and your password stays as it is.`,
        });
        if (created.user.organizationId !== null) {
          await recordAuditEvent(db, { organizationId: created.user.organizationId, actorUserId: created.user.id, actorLabel: created.user.email, action: 'password.reset_requested' });
        }
      }
      reply.code(202);
      return { message: 'If an account uses this address, a reset link is on its way. Check your mail.' };
    },
  });

  routes.post('/api/password-reset/confirm', {
    config: { access: 'public' },
    schema: {
      summary: 'Set a new password with a reset link, signing out every session of the user',
      body: z.object({
        token: z.string().min(1).max(512),
        password: z.string().min(MIN_PASSWORD_LENGTH, `must have at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
      }),
      response: { 204: z.null().describe('Password changed') },
    },
    handler: async (request, reply) => {
      const result = await resetPassword(db, request.body.token, request.body.password);
      if (!result.ok) throw new ApiError('reset_link_invalid');
      // The owner of the mailbox proved who they are, so earlier wrong guesses no longer lock them out.
      await clearSignInAttempts(db, result.value.email);
      return reply.code(204).send(null);
    },
  });

  routes.delete('/api/session', {
    config: { access: 'viewer' },
    schema: { summary: 'Sign out', response: { 204: z.null().describe('Signed out') } },
    handler: async (request, reply) => {
      const session = requireSession(request);
      await deleteSessionByHash(db, session.tokenHash);
      await recordAuditEvent(db, {
        organizationId: session.organization.id,
        actorUserId: session.user.id,
        actorLabel: session.user.email,
        action: 'session.signed_out',
      });
      clearSessionCookie(reply, context.isSecure());
      return reply.code(204).send(null);
    },
  });
}
