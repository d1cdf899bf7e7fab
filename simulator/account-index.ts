import type { SimAccount, SimIncident, SimService, SimTeam, SimUser } from './model.ts';

/** Lookups by id over one account, built once so each served record costs O(1). */
export class AccountIndex {
  private readonly users = new Map<string, SimUser>();
  private readonly incidents = new Map<string, SimIncident>();
  private readonly services = new Map<string, SimService>();
  private readonly servicesByIntegration = new Map<string, SimService>();
  private readonly teams = new Map<string, SimTeam>();

  constructor(account: SimAccount) {
    for (const user of account.users) this.users.set(user.id, user);
    for (const incident of account.incidents) this.incidents.set(incident.id, incident);
    for (const service of account.services) {
      this.services.set(service.id, service);
      this.servicesByIntegration.set(service.integrationId, service);
    }
    for (const team of account.teams) this.teams.set(team.id, team);
  }

  user(id: string): SimUser | undefined {
    return this.users.get(id);
  }

  incident(id: string): SimIncident | undefined {
    return this.incidents.get(id);
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
}
