import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentPriority, startSimulator, type PlanName, type RunningSimulator, type SimAccount } from '../../simulator/index.ts';
import { migrate } from '../db/migrate.ts';
import type { Database } from '../db/database.ts';
import { runSync } from '../sync/run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from '../sync/testing.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from './crunch.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;
const NOT_READ = 'Seatwise does not read whether this feature is set up in PagerDuty.';

interface AccountFeatureRow {
  feature_key: string;
  status: string;
  reason: string | null;
  configured_count: number | null;
  exercised_count_90d: number | null;
}

/** Lists the simulated account's inventory by Seatwise feature key, with the plan ability each list needs. */
function inventoryLists(account: Readonly<SimAccount>): Record<string, { configured: number; ability: string | null }> {
  const inventory = account.inventory;
  return {
    account_status_pages: { configured: inventory.statusPages.length, ability: null },
    account_incident_workflows: { configured: inventory.incidentWorkflows.filter((workflow) => workflow.isEnabled).length, ability: 'incident_workflows' },
    account_business_services: { configured: inventory.businessServices.length, ability: null },
    account_event_orchestrations: { configured: inventory.eventOrchestrations.length, ability: null },
    account_extensions: { configured: inventory.extensions.length, ability: null },
    account_addons: { configured: inventory.addons.length, ability: null },
    account_automation_actions: { configured: inventory.automationActions.length, ability: 'automation_actions' },
    account_priorities: { configured: inventory.priorities.length, ability: 'priorities' },
    account_custom_fields: {
      configured: inventory.customFields.filter((field) => field.enabled && inventory.incidentTypes.some((type) => type.id === field.incidentTypeId && type.enabled)).length,
      ability: 'custom_fields',
    },
  };
}

/** Counts incidents created in the 90 days up to `asOf` that carry a priority. */
function prioritizedIncidents(account: Readonly<SimAccount>, asOf: Date): number {
  const sinceMs = asOf.getTime() - 90 * DAY_MS;
  const untilMs = asOf.getTime() + 1;
  const incidents = account.history.incidents(sinceMs, untilMs, 0, account.history.countIncidents(sinceMs, untilMs));
  return incidents.filter((incident) => incidentPriority(account, incident) !== null).length;
}

describe.each(testDatabaseTargets())('account features against simulator on $name', (target) => {
  let database: Database;

  beforeAll(async () => {
    database = await target.open();
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  it.each<PlanName>(['business', 'professional'])('configured and exercised on %s plan', async (plan) => {
    const simulator: RunningSimulator = await startSimulator({ people: 30, seed: 23, now: NOW, plan, rateLimitPerMinute: 60_000 });
    try {
      const vault = testVault();
      const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
      const syncRunId = await createQueuedRun(database, connection);
      await runSync(testSyncDeps(database, vault, { now: () => NOW, crunch: crunchConnection }), { connectionId: connection.connectionId, syncRunId });

      const rows: AccountFeatureRow[] = await database.db
        .selectFrom('account_features')
        .select(['feature_key', 'status', 'reason', 'configured_count', 'exercised_count_90d'])
        .where('connection_id', '=', connection.connectionId)
        .execute();
      const byKey = new Map(rows.map((row) => [row.feature_key, row]));
      const account = simulator.generated;

      for (const [key, list] of Object.entries(inventoryLists(account))) {
        const row = byKey.get(key);
        const isReadable = list.ability === null || account.abilities.includes(list.ability);
        expect(row?.status, key).toBe(isReadable ? 'available' : 'unavailable');
        expect(row?.configured_count, key).toBe(isReadable ? list.configured : null);
        if (!isReadable) expect(row?.reason, key).toMatch(/not on the account plan/);
      }

      const expectedPrioritized = prioritizedIncidents(account, NOW);
      if (plan === 'business') expect(expectedPrioritized).toBeGreaterThan(0);
      expect(byKey.get('account_priorities')?.exercised_count_90d).toBe(expectedPrioritized);

      expect(byKey.get('account_analytics')?.status).toBe('unknown');
      expect(byKey.get('account_analytics')?.reason).toBe(NOT_READ);
    } finally {
      await simulator.close();
    }
  });
});
