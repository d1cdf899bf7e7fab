import type { AgentRef, SimAccount, SimIncident, SimLogEntry, SimSchedule, SimService, SimTeam, SimUser } from './model.ts';

/** An incident's state as its log entries leave it at the account's reference instant. */
export interface IncidentState {
  status: 'triggered' | 'acknowledged' | 'resolved';
  resolvedAt: Date | null;
  lastStatusChangeAt: Date;
  lastStatusChangeBy: AgentRef;
  /** People who acknowledged since the last trigger, while the incident is acknowledged. */
  acknowledgements: { userId: string; at: Date }[];
  /** Current assignees; PagerDuty clears them once an incident is resolved. */
  assignments: { userId: string; at: Date }[];
  firstTriggerEntryId: string | undefined;
  updatedAt: Date;
  /** Oldest first. */
  entries: SimLogEntry[];
}

const MAX_CACHED_INCIDENT_STATES = 20_000;

/** Lookups by id over one account, built once so each served record costs O(1). */
export class AccountIndex {
  private readonly users = new Map<string, SimUser>();
  private readonly deletedUsers = new Map<string, SimUser>();
  /** Recently computed incident states, oldest first; bounded so large accounts do not keep them all. */
  private readonly incidentStates = new Map<string, IncidentState>();
  private readonly services = new Map<string, SimService>();
  private readonly servicesByIntegration = new Map<string, SimService>();
  private readonly teams = new Map<string, SimTeam>();
  private readonly schedules = new Map<string, SimSchedule>();

  constructor(readonly account: SimAccount) {
    for (const user of account.users) this.users.set(user.id, user);
    for (const user of account.deletedUsers) this.deletedUsers.set(user.id, user);
    for (const service of account.services) {
      this.services.set(service.id, service);
      this.servicesByIntegration.set(service.integrationId, service);
    }
    for (const team of account.teams) this.teams.set(team.id, team);
    for (const schedule of account.schedules) this.schedules.set(schedule.id, schedule);
  }

  user(id: string): SimUser | undefined {
    return this.users.get(id);
  }

  /** Finds a current or deleted person, for naming the agents of old log entries. */
  anyUser(id: string): SimUser | undefined {
    return this.users.get(id) ?? this.deletedUsers.get(id);
  }

  incident(id: string): SimIncident | undefined {
    return this.account.history.incident(id);
  }

  /** Replays the incident's log entries to its current state. */
  incidentState(id: string): IncidentState | undefined {
    const cached = this.incidentStates.get(id);
    if (cached !== undefined) return cached;

    const entries = this.account.history.incidentEntries(id);
    const first = entries[0];
    if (first === undefined) return undefined;
    const state: IncidentState = {
      status: 'triggered',
      resolvedAt: null,
      lastStatusChangeAt: first.createdAt,
      lastStatusChangeBy: first.agent,
      acknowledgements: [],
      assignments: [],
      firstTriggerEntryId: undefined,
      updatedAt: first.createdAt,
      entries: [],
    };
    for (const entry of entries) applyEntry(state, entry);

    if (this.incidentStates.size >= MAX_CACHED_INCIDENT_STATES) {
      const oldest = this.incidentStates.keys().next().value;
      if (oldest !== undefined) this.incidentStates.delete(oldest);
    }
    this.incidentStates.set(id, state);
    return state;
  }

  service(id: string): SimService | undefined {
    return this.services.get(id);
  }

  serviceByIntegration(integrationId: string): SimService | undefined {
    return this.servicesByIntegration.get(integrationId);
  }

  team(id: string): SimTeam | undefined {
    return this.teams.get(id);
  }

  schedule(id: string): SimSchedule | undefined {
    return this.schedules.get(id);
  }
}

function applyEntry(state: IncidentState, entry: SimLogEntry): void {
  state.entries.push(entry);
  state.updatedAt = entry.createdAt;
  const changeStatus = (status: IncidentState['status']): void => {
    state.status = status;
    state.lastStatusChangeAt = entry.createdAt;
    state.lastStatusChangeBy = entry.agent;
  };

  switch (entry.type) {
    case 'trigger_log_entry':
      state.firstTriggerEntryId ??= entry.id;
      changeStatus('triggered');
      return;
    case 'acknowledge_log_entry':
      changeStatus('acknowledged');
      if (entry.agent.type === 'user_reference') state.acknowledgements.push({ userId: entry.agent.id, at: entry.createdAt });
      return;
    case 'unacknowledge_log_entry':
      changeStatus('triggered');
      state.acknowledgements = [];
      return;
    case 'resolve_log_entry':
      changeStatus('resolved');
      state.resolvedAt = entry.createdAt;
      state.acknowledgements = [];
      state.assignments = [];
      return;
    case 'assign_log_entry':
      if (entry.userId !== undefined) state.assignments = [{ userId: entry.userId, at: entry.createdAt }];
      return;
    case 'escalate_log_entry':
    case 'delegate_log_entry':
    case 'repeat_escalation_path_log_entry':
    case 'exhaust_escalation_path_log_entry':
    case 'reach_trigger_limit_log_entry':
    case 'reach_ack_limit_log_entry':
    case 'notify_log_entry':
    case 'annotate_log_entry':
    case 'snooze_log_entry':
    case 'urgency_change_log_entry':
      return;
    default: {
      const unhandled: never = entry.type;
      throw new Error(`applyEntry: unknown log entry type ${String(unhandled)}`);
    }
  }
}
