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

/** Lookups by id over one account, built once so each served record costs O(1). */
export class AccountIndex {
  private readonly users = new Map<string, SimUser>();
  private readonly deletedUsers = new Map<string, SimUser>();
  private readonly incidents = new Map<string, SimIncident>();
  private readonly incidentStates = new Map<string, IncidentState>();
  private readonly services = new Map<string, SimService>();
  private readonly servicesByIntegration = new Map<string, SimService>();
  private readonly teams = new Map<string, SimTeam>();
  private readonly schedules = new Map<string, SimSchedule>();

  constructor(readonly account: SimAccount) {
    for (const user of account.users) this.users.set(user.id, user);
    for (const user of account.deletedUsers) this.deletedUsers.set(user.id, user);
    for (const incident of account.incidents) this.incidents.set(incident.id, incident);
    for (const service of account.services) {
      this.services.set(service.id, service);
      this.servicesByIntegration.set(service.integrationId, service);
    }
    for (const team of account.teams) this.teams.set(team.id, team);
    for (const schedule of account.schedules) this.schedules.set(schedule.id, schedule);
    this.buildIncidentStates();
  }

  user(id: string): SimUser | undefined {
    return this.users.get(id);
  }

  /** Finds a current or deleted person, for naming the agents of old log entries. */
  anyUser(id: string): SimUser | undefined {
    return this.users.get(id) ?? this.deletedUsers.get(id);
  }

  incident(id: string): SimIncident | undefined {
    return this.incidents.get(id);
  }

  incidentState(id: string): IncidentState | undefined {
    return this.incidentStates.get(id);
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

  private buildIncidentStates(): void {
    for (let index = this.account.logEntries.length - 1; index >= 0; index -= 1) {
      const entry = this.account.logEntries[index] as SimLogEntry;
      let state = this.incidentStates.get(entry.incidentId);
      if (state === undefined) {
        state = {
          status: 'triggered',
          resolvedAt: null,
          lastStatusChangeAt: entry.createdAt,
          lastStatusChangeBy: entry.agent,
          acknowledgements: [],
          assignments: [],
          firstTriggerEntryId: undefined,
          updatedAt: entry.createdAt,
          entries: [],
        };
        this.incidentStates.set(entry.incidentId, state);
      }
      applyEntry(state, entry);
    }
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
