import type { IncomingMessage, ServerResponse } from 'node:http';
import { Random } from './random.ts';

/**
 * Probabilities, each in [0, 1], that a REST request (not the identity pages or token endpoint) gets
 * a fault in place of its normal response. At most one fault applies per request.
 */
export interface FaultRates {
  /** HTTP 500, 502 or 503 with one of the error bodies clients have failed to parse. */
  serverError?: number;
  /** The socket is destroyed before any response byte is sent. */
  connectionReset?: number;
  /** Headers and the first half of the body are sent, the rest after `slowBodyDelayMs`. */
  slowBody?: number;
  /** HTTP 429 without `ratelimit-*` headers and without a body, which PagerDuty documents as possible. */
  rateLimitWithoutHeaders?: number;
}

export type FaultKind = keyof FaultRates;

const FAULT_ORDER: readonly FaultKind[] = ['serverError', 'connectionReset', 'slowBody', 'rateLimitWithoutHeaders'];

/** Default pause in the middle of a slow body. */
export const DEFAULT_SLOW_BODY_DELAY_MS = 2_000;

/**
 * Server error bodies in the shapes PagerDuty clients have failed to parse: the documented envelope,
 * an `error` array of strings (which broke go-pagerduty's decoder), plain text, HTML from a proxy
 * and an empty body.
 */
const SERVER_ERROR_BODIES: readonly { status: number; contentType: string; body: string }[] = [
  { status: 500, contentType: 'application/json', body: JSON.stringify({ error: { message: 'Internal Error', code: 2000 } }) },
  { status: 500, contentType: 'application/json', body: JSON.stringify({ error: ['Internal Error'] }) },
  { status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
  { status: 503, contentType: 'text/plain', body: 'Service Unavailable' },
  { status: 500, contentType: 'application/json', body: '' },
];

/** Draws faults from a seeded generator, so a run with the same seed and request order repeats. */
export class FaultInjector {
  private readonly random: Random;

  constructor(
    public rates: FaultRates,
    seed: number,
    public slowBodyDelayMs = DEFAULT_SLOW_BODY_DELAY_MS,
  ) {
    this.random = new Random(seed ^ 0x5eed);
  }

  /** Picks the fault for the next request, or null for a normal response. */
  draw(): FaultKind | null {
    const point = this.random.next();
    let threshold = 0;
    for (const kind of FAULT_ORDER) {
      threshold += this.rates[kind] ?? 0;
      if (point < threshold) return kind;
    }
    return null;
  }

  /** Sends the fault. `slowBody` needs the normal body, so callers send it through `sendSlowly`. */
  apply(kind: Exclude<FaultKind, 'slowBody'>, request: IncomingMessage, response: ServerResponse): void {
    switch (kind) {
      // The client gets ECONNRESET or "socket hang up".
      case 'connectionReset':
        request.socket.destroy();
        return;
      case 'serverError': {
        const shape = this.random.pick(SERVER_ERROR_BODIES);
        response.writeHead(shape.status, { 'content-type': shape.contentType });
        response.end(shape.body);
        return;
      }
      case 'rateLimitWithoutHeaders':
        response.writeHead(429);
        response.end();
        return;
      default: {
        const unhandled: never = kind;
        throw new Error(`FaultInjector.apply: unknown fault ${String(unhandled)}`);
      }
    }
  }

  /** Sends `body` in two halves with a pause between them. */
  sendSlowly(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
    const bytes = Buffer.from(body);
    const middle = Math.floor(bytes.length / 2);
    response.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
    response.write(bytes.subarray(0, middle));
    setTimeout(() => {
      if (!response.destroyed) response.end(bytes.subarray(middle));
    }, this.slowBodyDelayMs);
  }
}
