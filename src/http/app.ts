import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { registerJsonBodyParser } from './json-body.ts';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { isSetupRequired } from '../accounts/setup.ts';
import { createMailer } from '../mail/mailer.ts';
import { registerOperations } from '../ops/routes.ts';
import { registerAccessControl } from './access.ts';
import { createRouteContext, type AppDeps } from './context.ts';
import { API_ERRORS, ApiError, errorEnvelope, type ApiErrorCode } from './errors.ts';
import { rejectNulCharacters } from './reject-nul.ts';
import { registerOpenApi } from './openapi.ts';
import { registerAccountRoutes } from './routes/accounts.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerDashboardRoutes } from './routes/dashboard.ts';
import { registerExportRoutes } from './routes/exports.ts';
import { registerInviteRoutes } from './routes/invites.ts';
import { registerMemberRoutes } from './routes/members.ts';
import { registerPagerDutyRoutes } from './routes/pagerduty.ts';
import { registerSettingsRoutes } from './routes/settings.ts';
import { registerWebApp } from './web.ts';

export type { AppDeps };

/** Largest request body accepted, in bytes; Seatwise's forms and JSON bodies are small. */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Builds the Seatwise web server: the JSON API, the OAuth connect flow and the built front end.
 * The caller listens; tests listen on 127.0.0.1 port 0.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast only widens its type to Fastify's interface.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    // One generated id per request, never taken from a client header.
    genReqId: () => crypto.randomUUID(),
    // Requests are logged by the onResponse hook below with plain fields, never the raw request,
    // so no query string (OAuth codes and states), header or cookie reaches the log.
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: replyToClientError,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerJsonBodyParser(app);

  const mailer =
    deps.mailer ?? createMailer({ db: deps.database.db, vault: deps.vault, logger: deps.logger, smtpUrl: deps.config.smtpUrl, from: deps.config.mailFrom });
  const context = createRouteContext(app, deps, mailer);

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, { contentSecurityPolicy: { directives: contentSecurityPolicy(deps, context.isSecure()) }, hsts: context.isSecure() });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: () => new ApiError('rate_limited'),
  });
  await registerOpenApi(app);
  registerAccessControl(app, deps.database.db, context.publicUrl);
  registerOperations(app, { database: deps.database, config: deps.config, process: deps.operations?.process, metrics: deps.operations?.metrics });
  app.setErrorHandler(handleError);
  rejectNulCharacters(app);
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the path: paths such as an invite link carry secrets.
    const route = request.routeOptions.url ?? '(no route)';
    request.log.info({ method: request.method, route, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime) }, 'Request completed');
  });

  registerAccountRoutes(app, context);
  await registerPagerDutyRoutes(app, context);
  registerDashboardRoutes(app, context);
  registerExportRoutes(app, context);
  await registerInviteRoutes(app, context);
  registerAdminRoutes(app, context);
  registerSettingsRoutes(app, context);
  await registerMemberRoutes(app, context);

  app.withTypeProvider<ZodTypeProvider>().get('/api/openapi.json', {
    config: { access: 'public' },
    schema: { summary: 'This OpenAPI document' },
    handler: async () => app.swagger(),
  });

  app.get('/', { config: { access: 'public' }, schema: { summary: 'Send the browser to the page it can use: setup, sign-in or the catalog' } }, async (request, reply) => {
    if (await isSetupRequired(deps.database.db)) return reply.redirect('/setup', 302);
    return reply.redirect(request.session ? '/catalog' : '/sign-in', 302);
  });

  await registerWebApp(app, deps.webRoot, deps.logger);
  return app;
}

/**
 * Only same-origin scripts, styles, images and requests. Forms may post to Seatwise, and the
 * Connect form's redirect goes on to PagerDuty's authorize page, which `form-action` must allow.
 */
function contentSecurityPolicy(deps: AppDeps, isSecure: boolean): Record<string, string[] | null> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'", new URL(deps.pagerduty.identityUrl).origin],
    frameAncestors: ["'none'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    scriptSrcAttr: ["'none'"],
    upgradeInsecureRequests: isSecure ? [] : null,
  };
}

/**
 * Replies to a request that Node.js's HTTP parser rejected before Fastify saw it, such as one with
 * headers over `--max-http-header-size`, in the same error envelope as every other error.
 */
function replyToClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let code: ApiErrorCode = 'malformed_request';
  if (error.code === 'HPE_HEADER_OVERFLOW') code = 'headers_too_large';
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') code = 'request_timeout';
  const statusCode = API_ERRORS[code].statusCode;
  const body = JSON.stringify(errorEnvelope(code));
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Renders every error in the one envelope; only unexpected errors are logged as errors. */
function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) {
    return reply.code(error.statusCode).send(errorEnvelope(error.code, error.message));
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issue = error.validation[0];
    const field = [error.validationContext, issue?.instancePath.replace(/^\//, '').replaceAll('/', '.')].filter(Boolean).join('.');
    const message = `The field ${field || 'request'} is invalid: ${issue?.message ?? 'unexpected value'}. Correct it and send the request again.`;
    return reply.code(400).send(errorEnvelope('invalid_request', message));
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ error: describeError(error) }, 'A response did not match its schema');
    return reply.code(500).send(errorEnvelope('internal_error'));
  }

  const statusCode = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  const code = codeOfFrameworkError(error, statusCode);
  if (code === 'internal_error') {
    request.log.error({ error: describeError(error) }, 'Request failed');
    return reply.code(500).send(errorEnvelope('internal_error'));
  }
  if (code === 'body_too_large') {
    return reply.code(413).send(errorEnvelope(code, `The request body is larger than ${BODY_LIMIT_BYTES / 1024} KB, the maximum this API accepts; send a smaller body.`));
  }
  return reply.code(statusCode).send(errorEnvelope(code, statusCode === 400 ? `The request is invalid: ${error.message}. Correct it and send it again.` : undefined));
}

/** Maps Fastify's own errors (body parsing, media type, limits) to catalogue codes. */
function codeOfFrameworkError(error: FastifyError | Error, statusCode: number): ApiErrorCode {
  const code = 'code' in error ? error.code : undefined;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'unsupported_media_type';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'body_too_large';
  if (statusCode === 429) return 'rate_limited';
  if (statusCode === 404) return 'not_found';
  if (statusCode >= 400 && statusCode < 500) return 'invalid_request';
  return 'internal_error';
}

/** Converts an error to plain log fields, because the logger's formatter serializes objects before pino's serializers run. */
export function describeError(error: unknown): { name: string; message: string; stack: string | undefined } {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'NonError', message: String(error), stack: undefined };
}
