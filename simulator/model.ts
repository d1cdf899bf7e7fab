/**
 * The simulated account, held as plain records. REST handlers turn these into PagerDuty's wire
 * shapes; the ground truth reads them directly.
 */

export type Region = 'us' | 'eu';

export type UserRole =
  | 'owner'
  | 'admin'
  | 'user'
  | 'limited_user'
  | 'observer'
  | 'restricted_access'
  | 'read_only_user'
  | 'read_only_limited_user';

/** How a generated person behaves, which decides the log entries they author. */
export type Behaviour =
  | 'daily_responder'
  | 'weekly_responder'
  | 'occasional_responder'
  | 'lapsed_responder'
  | 'dormant_responder'
  | 'never_acts'
  | 'stakeholder';

export type RoleGroup = 'FullUser' | 'Stakeholder';

export interface SimLicense {
  id: string;
  name: string;
  description: string;
  roleGroup: RoleGroup;
  validRoles: UserRole[];
  /** Seats bought but held by nobody; `null` means PagerDuty reports no limit. */
  allocationsAvailable: number | null;
}

export type ContactMethodType = 'email_contact_method' | 'phone_contact_method' | 'sms_contact_method' | 'push_notification_contact_method';

export interface SimContactMethod {
  id: string;
  type: ContactMethodType;
  label: string;
  address: string;
}

export interface SimNotificationRule {
  id: string;
  urgency: 'high' | 'low';
  startDelayInMinutes: number;
  contactMethodId: string;
}

export interface SimUser {
  id: string;
  name: string;
  email: string;
  role: UserRole;
  timeZone: string;
  color: string;
  jobTitle: string;
  licenseId: string;
  allocatedAt: Date;
  behaviour: Behaviour;
  invitationSent: boolean;
  createdViaSso: boolean;
  teamIds: string[];
  contactMethods: SimContactMethod[];
  notificationRules: SimNotificationRule[];
}

export interface SimTeam {
  id: string;
  name: string;
  description: string;
}

export interface SimService {
  id: string;
  name: string;
  description: string;
  teamId: string;
  integrationId: string;
  integrationName: string;
  createdAt: Date;
}

export interface SimIncident {
  id: string;
  number: number;
  title: string;
  serviceId: string;
  urgency: 'high' | 'low';
  createdAt: Date;
}

export type AgentRef = { type: 'user_reference'; id: string } | { type: 'service_reference'; id: string } | { type: 'integration_reference'; id: string };

export type LogEntryType =
  | 'trigger_log_entry'
  | 'acknowledge_log_entry'
  | 'unacknowledge_log_entry'
  | 'resolve_log_entry'
  | 'assign_log_entry'
  | 'escalate_log_entry'
  | 'notify_log_entry'
  | 'annotate_log_entry'
  | 'snooze_log_entry'
  | 'urgency_change_log_entry';

/** The means by which an action reached PagerDuty; details are served only with `include[]=channels`. */
export type SimChannel =
  | { type: 'api'; serviceKey: string; description: string }
  | { type: 'auto' }
  | { type: 'timeout' }
  | { type: 'website' }
  | { type: 'email'; from: string; subject: string }
  | { type: 'sms' }
  | { type: 'note' }
  | { type: 'slack' };

export interface SimLogEntry {
  id: string;
  type: LogEntryType;
  createdAt: Date;
  incidentId: string;
  serviceId: string;
  agent: AgentRef;
  channel: SimChannel;
  /** The person notified or assigned, for notify and assign entries. */
  userId?: string;
  note?: string;
  snoozeSeconds?: number;
}

export interface SimAccount {
  id: string;
  subdomain: string;
  name: string;
  region: Region;
  timeZone: string;
  abilities: string[];
  owner: SimUser;
  licenses: SimLicense[];
  users: SimUser[];
  teams: SimTeam[];
  services: SimService[];
  incidents: SimIncident[];
  /** Newest first, ties broken by id, as `/log_entries` returns them. */
  logEntries: SimLogEntry[];
  generatedAt: Date;
}
