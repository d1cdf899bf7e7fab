import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Access } from './access.ts';

/** The OpenAPI extension that names the role each operation needs (`public` for none). */
export const ROLE_EXTENSION = 'x-seatwise-role';
/** The OpenAPI extension on operations that need the session's CSRF token. */
export const CSRF_EXTENSION = 'x-seatwise-csrf';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Registers @fastify/swagger so `/api/openapi.json` describes every route from its zod schemas,
 * with the role each route needs. Must be registered before the routes.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const accessByOperation = new Map<string, Access>();

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Seatwise API',
        version: '1',
        description: `Errors come as { "error": { "code", "message" } }. Each operation's ${ROLE_EXTENSION} names the least role it needs; ${CSRF_EXTENSION} marks operations that need the session's CSRF token in the x-csrf-token header (or the _csrf form field).`,
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'seatwise_session' },
        },
      },
    },
    transform(input) {
      const transformed = jsonSchemaTransform(input);
      const access = input.route.config?.access ?? 'public';
      const methods = Array.isArray(input.route.method) ? input.route.method : [input.route.method];
      for (const method of methods) accessByOperation.set(operationKey(method, transformed.url), access);
      const schema = { ...transformed.schema } as Record<string, unknown>;
      if (access !== 'public') schema.security = [{ session: [] }];
      return { schema, url: transformed.url };
    },
    transformObject(documentObject) {
      const document = jsonSchemaTransformObject(documentObject) as { paths?: Record<string, Record<string, Record<string, unknown>>> };
      for (const [path, operations] of Object.entries(document.paths ?? {})) {
        for (const method of HTTP_METHODS) {
          const operation = operations[method];
          if (operation === undefined) continue;
          const access = accessByOperation.get(operationKey(method, path)) ?? 'public';
          operation[ROLE_EXTENSION] = access;
          operation[CSRF_EXTENSION] = access !== 'public' && method !== 'get' && method !== 'head' && method !== 'options';
        }
      }
      return document as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
}

/** Keys an operation by method and OpenAPI path, where `:name` parameters become `{name}`. */
function operationKey(method: string, url: string): string {
  return `${method.toLowerCase()} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}
