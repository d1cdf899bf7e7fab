import type { PlanName, SimAccount, SimIncident } from './model.ts';

/** A user or team that receives an incident's status updates. */
export interface SimIncidentSubscriber {
  subscriberType: 'user' | 'team';
  subscriberId: string;
}

/** Plans whose accounts have incident subscribers: those that have business services and their subscribers. */
const PLANS_WITH_STATUS_UPDATES: ReadonlySet<PlanName> = new Set(['business', 'enterprise']);

/**
 * Lists the subscribers of an incident's status updates, served by
 * `/incidents/{id}/status_updates/subscribers`. They follow from the incident number, so lazily
 * generated histories need no stored list and a seed always gives the same ones:
 *
 * - every third incident: one stakeholder, taking the stakeholders in turn;
 * - every fifth incident: one team, taking the teams in turn;
 * - every tenth incident: also the first current member of that team on their own, so the person
 *   is reached both directly and through the team;
 * - the other incidents, about half, have none.
 *
 * Accounts on other plans have none. The function draws no random numbers, so the
 * rest of a seed's account stays as it was before incident subscribers existed.
 */
export function incidentSubscribers(account: SimAccount, incident: SimIncident): SimIncidentSubscriber[] {
  if (!PLANS_WITH_STATUS_UPDATES.has(account.plan)) return [];
  const subscribers: SimIncidentSubscriber[] = [];
  const number = incident.number;

  const stakeholders = account.users.filter((user) => user.behaviour === 'stakeholder');
  const stakeholder = stakeholders[Math.floor(number / 3) % Math.max(stakeholders.length, 1)];
  if (number % 3 === 0 && stakeholder !== undefined) subscribers.push({ subscriberType: 'user', subscriberId: stakeholder.id });

  const team = account.teams[Math.floor(number / 5) % Math.max(account.teams.length, 1)];
  if (number % 5 !== 0 || team === undefined) return subscribers;
  subscribers.push({ subscriberType: 'team', subscriberId: team.id });
  const member = account.users.find((user) => user.teamIds.includes(team.id));
  const isSubscribed = subscribers.some((subscriber) => subscriber.subscriberType === 'user' && subscriber.subscriberId === member?.id);
  if (number % 10 === 0 && member !== undefined && !isSubscribed) subscribers.push({ subscriberType: 'user', subscriberId: member.id });
  return subscribers;
}
