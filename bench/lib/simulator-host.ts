/**
 * Runs the PagerDuty simulator in a process of its own for the sync benchmark, so its work does
 * not slow the clients being measured. Prints one JSON line with the API URL and two account API
 * keys (one per client, so each client starts with a full rate-limit window), then replies to each
 * line `log` on stdin with one JSON line: the requests served since the last `log` (method, path,
 * status) and this process's peak RSS. Stops on SIGTERM or when stdin closes.
 *
 *   node --import tsx bench/lib/simulator-host.ts PEOPLE LATENCY_MS RATE_LIMIT_PER_MINUTE SEED
 */
import { createInterface } from 'node:readline';
import { startSimulator } from '../../simulator/index.ts';
import { ownMaxRssMegabytes } from './measure.ts';

const [people, latencyMs, rateLimitPerMinute, seed] = process.argv.slice(2).map(Number);
if ([people, latencyMs, rateLimitPerMinute, seed].some((value) => value === undefined || !Number.isInteger(value) || value < 0)) {
  console.error(`Usage: simulator-host.ts PEOPLE LATENCY_MS RATE_LIMIT_PER_MINUTE SEED, all non-negative integers; got ${process.argv.slice(2).join(' ')}`);
  process.exit(64);
}

const simulator = await startSimulator({ people, latencyMs, rateLimitPerMinute, seed });
const keys = [simulator.apiKey, simulator.control.createApiKey()];
console.log(JSON.stringify({ apiUrl: simulator.account.apiUrl, keys }));

const stop = async () => {
  await simulator.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'log') return;
  const requests = simulator.control.requestLog().map((entry) => ({ method: entry.method, path: entry.path, status: entry.status }));
  simulator.control.clearRequestLog();
  console.log(JSON.stringify({ requests, maxRssMegabytes: ownMaxRssMegabytes() }));
});
lines.on('close', () => void stop());
