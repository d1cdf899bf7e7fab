import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

/** Keys that would set an object's prototype when a body is merged into another object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Replaces Fastify's JSON body parser, which reports a `__proto__` key as invalid JSON, with one
 * that names the rejected key. It rejects empty bodies and every `__proto__`, `constructor` or
 * `prototype` key, which is stricter than Fastify 5's parser: that one allows `constructor` without
 * a `prototype` key inside.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    try {
      done(null, parseJsonBody(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new ApiError('invalid_request', 'The request body is empty but its content type is application/json. Send a JSON body or no content type.');

  let forbiddenKey: string | null = null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) forbiddenKey ??= key;
      return value;
    });
  } catch {
    throw new ApiError('invalid_request', 'The request body is not valid JSON but its content type is application/json. Correct the JSON and send it again.');
  }
  if (forbiddenKey !== null) {
    throw new ApiError('invalid_request', `The JSON body contains the key "${forbiddenKey}", which is not allowed. Remove it and send the request again.`);
  }
  return parsed;
}
