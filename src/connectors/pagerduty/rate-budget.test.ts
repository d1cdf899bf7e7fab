import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RateBudget } from './rate-budget.ts';

const WAITERS = 40;

describe('RateBudget', () => {
  it('adds one abort listener per signal', async () => {
    const budget = new RateBudget({ maxInFlight: 1 });
    const run = new AbortController();
    const first = await budget.acquire(run.signal);

    // Every other request waits for the one in flight, all on the run's signal.
    const waiting = Array.from({ length: WAITERS }, () => budget.acquire(run.signal));
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);

    // Each release wakes the waiters; the ones that do not get the slot wait again.
    first();
    const second = await Promise.race(waiting);
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    second();

    run.abort(new Error('run stopped'));
    const outcomes = await Promise.allSettled(waiting);
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(WAITERS - 2);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });
});
