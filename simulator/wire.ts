import type { AccountIndex } from './account-index.ts';
import type { SimAccount, SimChannel, SimContactMethod, SimLicense, SimLogEntry, SimTeam, SimUser, AgentRef } from './model.ts';

/**
 * Mappers from the simulated account to PagerDuty's wire shapes (OpenAPI schemas `User`,
 * `LicenseWithCounts`, `LogEntry` and their references). Fields are copied by name.
 */
export interface WireContext {
  account: SimAccount;
  index: AccountIndex;
  /** The API base URL of the account's region; `self` links point here. */
  apiUrl: string;
  /** Renders an instant; `time_zone` requests change the offset. */
  formatTime: (at: Date) => string;
}

type Json = Record<string, unknown>;

function webUrl(wire: WireContext, path: string): string {
  return `https://${wire.account.subdomain}.pagerduty.com${path}`;
}

export function userReference(wire: WireContext, user: SimUser | undefined, id: string): Json {
  return {
    id,
    type: 'user_reference',
    summary: user?.name ?? null,
    self: `${wire.apiUrl}/users/${id}`,
    html_url: webUrl(wire, `/users/${id}`),
  };
}

export function teamReference(wire: WireContext, team: SimTeam): Json {
  return { id: team.id, type: 'team_reference', summary: team.name, self: `${wire.apiUrl}/teams/${team.id}`, html_url: webUrl(wire, `/teams/${team.id}`) };
}

export function teamObject(wire: WireContext, team: SimTeam): Json {
  return {
    id: team.id,
    type: 'team',
    summary: team.name,
    self: `${wire.apiUrl}/teams/${team.id}`,
    html_url: webUrl(wire, `/teams/${team.id}`),
    name: team.name,
    description: team.description,
    default_role: 'manager',
  };
}

function contactMethodReference(wire: WireContext, user: SimUser, method: SimContactMethod): Json {
  return {
    id: method.id,
    type: `${method.type}_reference`,
    summary: method.label,
    self: `${wire.apiUrl}/users/${user.id}/contact_methods/${method.id}`,
    html_url: null,
  };
}

export function contactMethodObject(wire: WireContext, user: SimUser, method: SimContactMethod): Json {
  const base: Json = {
    id: method.id,
    type: method.type,
    summary: method.label,
    self: `${wire.apiUrl}/users/${user.id}/contact_methods/${method.id}`,
    html_url: null,
    label: method.label,
    address: method.address,
  };
  switch (method.type) {
    case 'email_contact_method':
      return { ...base, send_short_email: false, enabled: true };
    case 'phone_contact_method':
    case 'sms_contact_method':
      return { ...base, country_code: 1, enabled: true, blacklisted: false };
    case 'push_notification_contact_method':
      return { ...base, device_type: 'ios', blacklisted: false };
    default: {
      const unhandled: never = method.type;
      throw new Error(`contactMethodObject: unknown type ${String(unhandled)}`);
    }
  }
}

function notificationRuleReference(wire: WireContext, user: SimUser, ruleId: string): Json {
  return {
    id: ruleId,
    type: 'assignment_notification_rule_reference',
    summary: 'Default',
    self: `${wire.apiUrl}/users/${user.id}/notification_rules/${ruleId}`,
    html_url: null,
  };
}

export function notificationRuleObject(wire: WireContext, user: SimUser, rule: SimUser['notificationRules'][number]): Json {
  const method = user.contactMethods.find((candidate) => candidate.id === rule.contactMethodId);
  return {
    id: rule.id,
    type: 'assignment_notification_rule',
    summary: `${rule.startDelayInMinutes} minutes: channel ${rule.contactMethodId}`,
    self: `${wire.apiUrl}/users/${user.id}/notification_rules/${rule.id}`,
    html_url: null,
    start_delay_in_minutes: rule.startDelayInMinutes,
    urgency: rule.urgency,
    contact_method: method === undefined ? { id: rule.contactMethodId, type: 'email_contact_method_reference' } : contactMethodReference(wire, user, method),
  };
}

export type UserInclude = 'contact_methods' | 'notification_rules' | 'teams' | 'subdomains';

export function userObject(wire: WireContext, user: SimUser, includes: ReadonlySet<string>): Json {
  const teams = user.teamIds.map((teamId) => wire.index.team(teamId)).filter((team): team is SimTeam => team !== undefined);
  return {
    id: user.id,
    type: 'user',
    summary: user.name,
    self: `${wire.apiUrl}/users/${user.id}`,
    html_url: webUrl(wire, `/users/${user.id}`),
    name: user.name,
    email: user.email,
    time_zone: user.timeZone,
    color: user.color,
    role: user.role,
    avatar_url: 'https://secure.gravatar.com/avatar/0000000000000000000000000000000?d=mm&s=50',
    description: null,
    invitation_sent: user.invitationSent,
    job_title: user.jobTitle,
    created_via_sso: user.createdViaSso,
    contact_methods: user.contactMethods.map((method) =>
      includes.has('contact_methods') ? contactMethodObject(wire, user, method) : contactMethodReference(wire, user, method),
    ),
    notification_rules: user.notificationRules.map((rule) =>
      includes.has('notification_rules') ? notificationRuleObject(wire, user, rule) : notificationRuleReference(wire, user, rule.id),
    ),
    teams: teams.map((team) => (includes.has('teams') ? teamObject(wire, team) : teamReference(wire, team))),
  };
}

export function licenseFields(license: SimLicense): Json {
  return {
    id: license.id,
    name: license.name,
    description: license.description,
    valid_roles: license.validRoles,
    role_group: license.roleGroup,
    summary: license.name,
    type: 'license',
    self: null,
    html_url: null,
  };
}

export function licenseWithCounts(wire: WireContext, license: SimLicense): Json {
  return {
    ...licenseFields(license),
    current_value: wire.account.users.filter((user) => user.licenseId === license.id).length,
    allocations_available: license.allocationsAvailable,
  };
}

export function licenseAllocation(wire: WireContext, user: SimUser): Json {
  const license = wire.account.licenses.find((candidate) => candidate.id === user.licenseId);
  if (license === undefined) throw new Error(`licenseAllocation: user ${user.id} has license ${user.licenseId}, which is not in the account`);
  return { user: userReference(wire, user, user.id), license: licenseFields(license), allocated_at: wire.formatTime(user.allocatedAt) };
}

export type LogEntryInclude = 'incidents' | 'services' | 'channels' | 'teams';

function agentReference(wire: WireContext, agent: AgentRef): Json {
  switch (agent.type) {
    case 'user_reference':
      return userReference(wire, wire.index.anyUser(agent.id), agent.id);
    case 'service_reference': {
      const service = wire.index.service(agent.id);
      return { id: agent.id, type: 'service_reference', summary: service?.name ?? null, self: `${wire.apiUrl}/services/${agent.id}`, html_url: webUrl(wire, `/service-directory/${agent.id}`) };
    }
    case 'integration_reference': {
      const service = wire.index.serviceByIntegration(agent.id);
      const self = service === undefined ? null : `${wire.apiUrl}/services/${service.id}/integrations/${agent.id}`;
      return { id: agent.id, type: 'integration_reference', summary: service?.integrationName ?? null, self, html_url: null };
    }
    default: {
      const unhandled: never = agent;
      throw new Error(`agentReference: unknown agent ${JSON.stringify(unhandled)}`);
    }
  }
}

/** Channel details, served only with `include[]=channels`; otherwise PagerDuty shows the type alone. */
function channelObject(channel: SimChannel, withDetails: boolean): Json {
  if (!withDetails) return { type: channel.type };
  switch (channel.type) {
    case 'api':
      return { type: 'api', service_key: channel.serviceKey, description: channel.description, incident_key: null, details: {}, summary: channel.description };
    case 'email':
      return { type: 'email', from: channel.from, subject: channel.subject, summary: channel.subject };
    case 'nagios':
      return { type: 'nagios', host: channel.host, service: channel.service, state: channel.state, summary: channel.host, details: {} };
    case 'auto':
    case 'timeout':
    case 'website':
    case 'sms':
    case 'note':
    case 'slack':
      return { type: channel.type, summary: channel.type };
    default: {
      const unhandled: never = channel;
      throw new Error(`channelObject: unknown channel ${JSON.stringify(unhandled)}`);
    }
  }
}

const LOG_ENTRY_SUMMARIES: Record<SimLogEntry['type'], string> = {
  trigger_log_entry: 'Triggered through the API',
  acknowledge_log_entry: 'Acknowledged',
  unacknowledge_log_entry: 'Unacknowledged due to timeout',
  resolve_log_entry: 'Resolved',
  assign_log_entry: 'Assigned',
  escalate_log_entry: 'Escalated',
  notify_log_entry: 'Notified',
  annotate_log_entry: 'Note added',
  snooze_log_entry: 'Snoozed',
  urgency_change_log_entry: 'Urgency changed',
  delegate_log_entry: 'Reassigned to another escalation policy',
  repeat_escalation_path_log_entry: 'Repeated the escalation path',
  exhaust_escalation_path_log_entry: 'Escalation path exhausted',
  reach_trigger_limit_log_entry: 'Trigger limit reached',
  reach_ack_limit_log_entry: 'Acknowledgement limit reached',
};

export function logEntryObject(wire: WireContext, entry: SimLogEntry, includes: ReadonlySet<string>): Json {
  const incident = wire.index.incident(entry.incidentId);
  const service = wire.index.service(entry.serviceId);
  const team = service === undefined ? undefined : wire.index.team(service.teamId);
  const agentName = entry.agent.type === 'user_reference' ? wire.index.anyUser(entry.agent.id)?.name : service?.name;

  const wireEntry: Json = {
    id: entry.id,
    type: entry.type,
    summary: `${LOG_ENTRY_SUMMARIES[entry.type]}${agentName === undefined ? '' : ` by ${agentName}`}`,
    self: `${wire.apiUrl}/log_entries/${entry.id}?incident_id=${entry.incidentId}`,
    html_url: webUrl(wire, `/incidents/${entry.incidentId}/log_entries/${entry.id}`),
    created_at: wire.formatTime(entry.createdAt),
    agent: agentReference(wire, entry.agent),
    channel: channelObject(entry.channel, includes.has('channels')),
    service: {
      id: entry.serviceId,
      type: 'service_reference',
      summary: service?.name ?? null,
      self: `${wire.apiUrl}/services/${entry.serviceId}`,
      html_url: webUrl(wire, `/service-directory/${entry.serviceId}`),
    },
    incident: {
      id: entry.incidentId,
      type: 'incident_reference',
      summary: incident === undefined ? null : `[#${incident.number}] ${incident.title}`,
      self: `${wire.apiUrl}/incidents/${entry.incidentId}`,
      html_url: webUrl(wire, `/incidents/${entry.incidentId}`),
    },
    teams: team === undefined ? [] : [teamReference(wire, team)],
    contexts: [],
    event_details: {},
  };
  if (entry.note !== undefined) wireEntry.note = entry.note;
  if (entry.type === 'notify_log_entry' && entry.userId !== undefined) wireEntry.user = userReference(wire, wire.index.user(entry.userId), entry.userId);
  if (entry.type === 'assign_log_entry' && entry.userId !== undefined) {
    wireEntry.assignees = [userReference(wire, wire.index.user(entry.userId), entry.userId)];
  }
  if (entry.type === 'acknowledge_log_entry') wireEntry.acknowledgement_timeout = 1800;
  return wireEntry;
}
