/**
 * The simulated account, held as plain records. REST handlers turn these into PagerDuty's wire
 * shapes; the ground truth reads them directly.
 */

import type { HistoryStore } from './history.ts';

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
  /** Seats bought but allocated to no one. `null` means PagerDuty reports no limit. */
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

export type DelegationType = 'web' | 'mobile' | 'integration';

/** A sign-in session, served as an OAuth delegation of type `web` or `mobile`. */
export interface SimSession {
  id: string;
  type: DelegationType;
  clientId: string;
  createdAt: Date;
  expiresAt: Date;
  isRevoked: boolean;
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
  createdAt: Date;
  /** Null for people who never signed in, such as those with an outstanding invitation. */
  lastSignInAt: Date | null;
  hasMobileApp: boolean;
  /** Acts only from the phone: acknowledges and resolves by SMS, signs in only in the mobile app. */
  isMobileOnly: boolean;
  sessions: SimSession[];
}

export type PlanName = 'free' | 'professional' | 'business' | 'enterprise';

/** A weekly rotation that hands off at a local wall-clock time, so handoffs follow daylight-saving changes. */
export interface SimScheduleLayer {
  id: string;
  name: string;
  start: Date;
  /** 0 is Sunday, as `Date.getUTCDay`. */
  handoffWeekday: number;
  handoffHour: number;
  userIds: string[];
}

export interface SimOverride {
  id: string;
  start: Date;
  end: Date;
  userId: string;
}

export interface SimSchedule {
  id: string;
  name: string;
  description: string;
  timeZone: string;
  teamId: string;
  layer: SimScheduleLayer;
  overrides: SimOverride[];
}

export type EscalationTarget = { type: 'schedule_reference'; id: string } | { type: 'user_reference'; id: string };

export interface SimEscalationPolicy {
  id: string;
  name: string;
  description: string;
  teamId: string;
  numLoops: number;
  rules: { id: string; delayMinutes: number; targets: EscalationTarget[] }[];
}

export interface SimAuditRecord {
  id: string;
  executionTime: Date;
  actorUserId: string;
  methodType: 'browser' | 'oauth' | 'api_token';
  rootType: 'users' | 'teams' | 'schedules' | 'escalation_policies' | 'services';
  rootId: string;
  rootName: string;
  action: 'create' | 'update' | 'delete';
  field: { name: string; before: string; value: string } | null;
}

/** Account-level features: configured objects whose presence shows a paid feature in use. */
export interface SimInventory {
  statusPages: { id: string; name: string; type: 'public' | 'private'; publishedAt: Date | null }[];
  incidentWorkflows: { id: string; name: string; teamId: string; isEnabled: boolean; createdAt: Date }[];
  businessServices: { id: string; name: string; teamId: string; pointOfContact: string }[];
  eventOrchestrations: { id: string; name: string; teamId: string; routes: number; createdAt: Date; createdByUserId: string }[];
  extensions: { id: string; name: string; schemaId: string; schemaName: string; serviceId: string; isDisabled: boolean }[];
  addons: { id: string; name: string; type: 'full_page_addon' | 'incident_show_addon'; src: string }[];
  priorities: { id: string; name: string; description: string }[];
  vendors: { id: string; name: string; description: string; websiteUrl: string }[];
  automationActions: { id: string; name: string; description: string; createdAt: Date; runnerId: string; serviceIds: string[] }[];
  /** Incident types; every account has the base type `incident_default`. */
  incidentTypes: SimIncidentType[];
  /** Custom fields, each defined on one incident type. */
  customFields: SimCustomField[];
  /** Stakeholders subscribed to status updates of a business service, served by `/business_services/{id}/subscribers`. */
  businessServiceSubscribers: SimSubscriber[];
}

export interface SimIncidentType {
  id: string;
  name: string;
  displayName: string;
  enabled: boolean;
  parentId: string | null;
  createdAt: Date;
}

export interface SimCustomField {
  id: string;
  incidentTypeId: string;
  name: string;
  displayName: string;
  enabled: boolean;
  createdAt: Date;
}

/** A user or team that receives a business service's status updates. */
export interface SimSubscriber {
  businessServiceId: string;
  subscriberType: 'user' | 'team';
  subscriberId: string;
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
  escalationPolicyId: string;
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
  | 'urgency_change_log_entry'
  | 'delegate_log_entry'
  | 'repeat_escalation_path_log_entry'
  | 'exhaust_escalation_path_log_entry'
  | 'reach_trigger_limit_log_entry'
  | 'reach_ack_limit_log_entry';

/** The means by which an action reached PagerDuty; details are served only with `include[]=channels`. */
export type SimChannel =
  | { type: 'api'; serviceKey: string; description: string }
  | { type: 'auto' }
  | { type: 'timeout' }
  | { type: 'website' }
  | { type: 'email'; from: string; subject: string }
  | { type: 'nagios'; host: string; service: string; state: string }
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
  plan: PlanName;
  abilities: string[];
  owner: SimUser;
  licenses: SimLicense[];
  users: SimUser[];
  teams: SimTeam[];
  services: SimService[];
  /** Incidents and log entries; log entries are served newest first, ties broken by id. */
  history: HistoryStore;
  schedules: SimSchedule[];
  escalationPolicies: SimEscalationPolicy[];
  /** Newest first. */
  auditRecords: SimAuditRecord[];
  inventory: SimInventory;
  /** People removed from the account who still appear as agents in old log entries. */
  deletedUsers: SimUser[];
  generatedAt: Date;
}
