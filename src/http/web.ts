import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../lib/logger.ts';
import { errorEnvelope } from './errors.ts';

/** Paths the server owns; an unknown path under them is a 404, never the front end's page. */
const SERVER_PATH_PREFIXES = ['/api/', '/oauth/'];

const UNBUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Seatwise</title></head>
<body><h1>Seatwise</h1><p>The front end is not built. Run <code>npm run build:web</code> and restart the server.</p></body></html>`;

/**
 * Serves the built front end from `webRoot`. Any other GET for a page (not under /api/ or
 * /oauth/) gets index.html, so the front end's router handles browser routes such as /catalog.
 */
export async function registerWebApp(app: FastifyInstance, webRoot: string, logger: Logger): Promise<void> {
  const hasBuild = existsSync(join(webRoot, 'index.html'));
  if (hasBuild) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: true, index: false, cacheControl: true, maxAge: '1h' });
  } else {
    logger.warn({ webRoot }, 'The front end is not built; run npm run build:web');
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const isPageRequest = (request.method === 'GET' || request.method === 'HEAD') && !SERVER_PATH_PREFIXES.some((prefix) => path.startsWith(prefix));
    if (!isPageRequest) {
      return reply.code(404).send(errorEnvelope('not_found', `Nothing exists at ${request.method} ${path}; check the URL.`));
    }
    reply.header('cache-control', 'no-cache');
    if (!hasBuild) return reply.code(200).type('text/html; charset=utf-8').send(UNBUILT_PAGE);
    return reply.sendFile('index.html', { maxAge: 0 });
  });
}
