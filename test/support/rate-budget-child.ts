/**
 * A process that sends PagerDuty requests for one connection through the connection's shared rate
 * budget, for tests of pacing across processes. Arguments: database URL, API base URL, API key,
 * budget key, request count, limit per minute. Prints one JSON line with its request count.
 */
import { PagerDutyClient } from '../../src/connectors/pagerduty/client.ts';
import { RateBudget } from '../../src/connectors/pagerduty/rate-budget.ts';
import { PostgresTokenBucket } from '../../src/connectors/pagerduty/shared-rate-budget.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { z } from 'zod';

const [databaseUrl, apiBaseUrl, apiKey, budgetKey, countText, limitText] = process.argv.slice(2);
if (!databaseUrl || !apiBaseUrl || !apiKey || !budgetKey || !countText || !limitText) {
  throw new Error('Usage: rate-budget-child DATABASE_URL API_BASE_URL API_KEY BUDGET_KEY REQUESTS LIMIT_PER_MINUTE');
}

const database = await openDatabase({ kind: 'postgres', url: databaseUrl });
const budget = new RateBudget({ limitPerMinute: Number(limitText), shared: new PostgresTokenBucket(database, budgetKey) });
const client = new PagerDutyClient({ apiBaseUrl, credentials: { current: async () => ({ kind: 'api_key', apiKey }) }, logger: createLogger('silent'), budget });

let failures = 0;
await Promise.all(
  Array.from({ length: Number(countText) }, async () => {
    const result = await client.get('/abilities', {}, z.looseObject({}));
    if (!result.ok) failures += 1;
  }),
);
process.stdout.write(`${JSON.stringify({ requests: client.requestCount, failures })}\n`);
await database.close();
