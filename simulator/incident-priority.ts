import type { SimAccount, SimIncident } from './model.ts';

/**
 * Returns the priority responders set on an incident, or null. On an account with priorities, one
 * high-urgency incident in three gets one, chosen by the incident number, so every read of the
 * incident and the ground truth agree without storing it.
 */
export function incidentPriority(account: Pick<SimAccount, 'inventory'>, incident: SimIncident): SimAccount['inventory']['priorities'][number] | null {
  const priorities = account.inventory.priorities;
  if (priorities.length === 0 || incident.urgency !== 'high' || incident.number % 3 !== 0) return null;
  return priorities[incident.number % priorities.length] ?? null;
}
