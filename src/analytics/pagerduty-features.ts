/**
 * PagerDuty's feature catalogue as data: what each feature is, which synced records show its use,
 * whether it is used per person or per account, and what plan or access it needs. The crunch
 * derives activity facts from the `events` mappings, and the report and dashboard name features
 * from here.
 */

import { INCIDENT_SUBSCRIBERS_RECENT_DAYS, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN } from '../sync/streams/subscriptions.ts';

export type FeatureScope = 'person' | 'account';

export type FeatureCategory = 'incident_response' | 'on_call' | 'mobile' | 'notifications' | 'chat' | 'web' | 'configuration' | 'stakeholder' | 'account';

/** A rule that turns synced records into events of a feature; the crunch translates each to SQL. */
export type FeatureEventSource =
  /** Log entries of these types whose agent is a person. */
  | { kind: 'log_entry_type'; types: string[] }
  /** Log entries whose agent is a person and whose channel is one of these types. */
  | { kind: 'log_entry_channel'; channels: string[] }
  /** Notifications of this type (`push_notification`, ...) received by a person. */
  | { kind: 'notification'; type: string }
  /** The start of an on-call shift; permanent on-calls have no start and show as coverage. */
  | { kind: 'oncall_shift' }
  /** The start of a schedule override that puts the person on call. */
  | { kind: 'schedule_override' }
  /** A web, mobile or integration session (OAuth delegation) created for the person. */
  | { kind: 'oauth_delegation'; delegationType: string }
  /** The last sign-in PagerDuty's analytics report for the person. */
  | { kind: 'analytics_sign_in' }
  /** A configuration change recorded in the audit trail with the person as actor. */
  | { kind: 'audit_record' }
  /**
   * A subscription of the person to a business service's or an incident's status updates. It is a
   * standing state rather than an event, so it counts in every window in which a sync saw it held.
   */
  | { kind: 'notification_subscription' }
  /**
   * The person's place on an escalation policy, as a user target of a rule or as a member of a
   * schedule layer that a rule targets. Like a subscription it is a standing state, and it counts
   * once per policy in every window in which a sync saw it held.
   */
  | { kind: 'escalation_policy_membership' };

/** Returns whether a source shows a standing state, which a sync reads as held or not, rather than events at an instant. */
export function isStandingStateSource(source: FeatureEventSource): boolean {
  return source.kind === 'notification_subscription' || source.kind === 'escalation_policy_membership';
}

export interface FeatureDefinition {
  key: string;
  name: string;
  description: string;
  category: FeatureCategory;
  scope: FeatureScope;
  /** The plan, add-on or access the feature or its signal needs; null when every account has it. */
  requirement: string | null;
  /** The PagerDuty records that show use, in words, for the dashboard and the report. */
  signals: string[];
  /** Per-person event sources; empty for account features and for features with no per-person signal. */
  events: FeatureEventSource[];
  /** For account features: the `pd_feature_inventory.feature` name the sync writes, when it reads one. */
  inventoryFeature?: string;
}

export const PAGERDUTY_PROVIDER = 'pagerduty';

export const PAGERDUTY_FEATURES: readonly FeatureDefinition[] = [
  {
    key: 'incident_acknowledge',
    name: 'Acknowledge incidents',
    description: 'Acknowledging an incident to stop its escalation.',
    category: 'incident_response',
    scope: 'person',
    requirement: null,
    signals: ['acknowledge_log_entry with a user agent'],
    // The OpenAPI description also names the type acknowledgement_log_entry, so both are read.
    events: [{ kind: 'log_entry_type', types: ['acknowledge_log_entry', 'acknowledgement_log_entry'] }],
  },
  {
    key: 'incident_resolve',
    name: 'Resolve incidents',
    description: 'Resolving an incident by hand.',
    category: 'incident_response',
    scope: 'person',
    requirement: null,
    signals: ['resolve_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['resolve_log_entry'] }],
  },
  {
    key: 'incident_reassign',
    name: 'Reassign incidents',
    description: 'Assigning an incident to another person or delegating it to another escalation policy.',
    category: 'incident_response',
    scope: 'person',
    requirement: null,
    signals: ['assign_log_entry or delegate_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['assign_log_entry', 'delegate_log_entry'] }],
  },
  {
    key: 'incident_escalate',
    name: 'Escalate incidents',
    description: 'Escalating an incident to the next level by hand.',
    category: 'incident_response',
    scope: 'person',
    requirement: null,
    signals: ['escalate_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['escalate_log_entry'] }],
  },
  {
    key: 'incident_snooze',
    name: 'Snooze incidents',
    description: 'Snoozing an acknowledged incident.',
    category: 'incident_response',
    scope: 'person',
    requirement: null,
    signals: ['snooze_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['snooze_log_entry'] }],
  },
  {
    key: 'incident_urgency_change',
    name: 'Change incident urgency',
    description: 'Raising or lowering the urgency of an incident.',
    category: 'incident_response',
    scope: 'person',
    requirement: 'the Urgencies feature in the PagerDuty plan',
    signals: ['urgency_change_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['urgency_change_log_entry'] }],
  },
  {
    key: 'incident_note',
    name: 'Incident notes',
    description: 'Adding a note to an incident timeline.',
    category: 'incident_response',
    scope: 'person',
    requirement: null,
    signals: ['annotate_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['annotate_log_entry'] }],
  },
  {
    key: 'incident_add_responders',
    name: 'Add responders',
    description: 'Asking more people to join an incident.',
    category: 'incident_response',
    scope: 'person',
    requirement: 'the Coordinated Responding feature in the PagerDuty plan',
    signals: ['responder_request_log_entry with a user agent'],
    // NOTE: responder_request_log_entry is missing from the OpenAPI LogEntry type list. Accounts
    // that never write it show no use of this feature, even when responders were added.
    events: [{ kind: 'log_entry_type', types: ['responder_request_log_entry'] }],
  },
  {
    key: 'incident_custom_fields',
    name: 'Incident custom fields',
    description: 'Setting custom field values on incidents.',
    category: 'incident_response',
    scope: 'person',
    requirement: 'Business plan or higher',
    signals: ['field_value_change_log_entry or custom_field_value_change_log_entry with a user agent'],
    events: [{ kind: 'log_entry_type', types: ['field_value_change_log_entry', 'custom_field_value_change_log_entry'] }],
  },
  {
    key: 'oncall_shift',
    name: 'On-call shifts',
    description: 'Being on call through a schedule or an escalation policy.',
    category: 'on_call',
    scope: 'person',
    requirement: null,
    signals: ['/oncalls shifts by start time', 'permanent on-call (no start or end) as coverage'],
    events: [{ kind: 'oncall_shift' }],
  },
  {
    key: 'oncall_override',
    name: 'Schedule overrides',
    description: 'Taking over part of a schedule through an override.',
    category: 'on_call',
    scope: 'person',
    requirement: null,
    signals: ['/schedules/{id}/overrides by start time'],
    events: [{ kind: 'schedule_override' }],
  },
  {
    key: 'escalation_policy_member',
    name: 'Escalation policy membership',
    description: 'Being a target of an escalation rule, directly or through a schedule.',
    category: 'on_call',
    scope: 'person',
    requirement: null,
    signals: ['/escalation_policies escalation_rules[].targets', 'schedule layer members'],
    events: [{ kind: 'escalation_policy_membership' }],
  },
  {
    key: 'mobile_app',
    name: 'Mobile app',
    description: 'Using the PagerDuty mobile app.',
    category: 'mobile',
    scope: 'person',
    requirement: null,
    signals: ['log entries through the mobile channel', 'mobile OAuth delegations'],
    events: [
      { kind: 'log_entry_channel', channels: ['mobile'] },
      { kind: 'oauth_delegation', delegationType: 'mobile' },
    ],
  },
  {
    key: 'notification_push',
    name: 'Push notifications',
    description: 'Receiving push notifications on the mobile app.',
    category: 'notifications',
    scope: 'person',
    requirement: null,
    signals: ['/notifications of type push_notification'],
    events: [{ kind: 'notification', type: 'push_notification' }],
  },
  {
    key: 'notification_sms',
    name: 'SMS notifications',
    description: 'Receiving notifications by SMS.',
    category: 'notifications',
    scope: 'person',
    requirement: null,
    signals: ['/notifications of type sms_notification'],
    events: [{ kind: 'notification', type: 'sms_notification' }],
  },
  {
    key: 'notification_phone',
    name: 'Phone notifications',
    description: 'Receiving notifications by phone call.',
    category: 'notifications',
    scope: 'person',
    requirement: null,
    signals: ['/notifications of type phone_notification'],
    events: [{ kind: 'notification', type: 'phone_notification' }],
  },
  {
    key: 'notification_email',
    name: 'Email notifications',
    description: 'Receiving notifications by email.',
    category: 'notifications',
    scope: 'person',
    requirement: null,
    signals: ['/notifications of type email_notification'],
    events: [{ kind: 'notification', type: 'email_notification' }],
  },
  {
    key: 'chat_integration',
    name: 'Chat integrations',
    description: 'Acting on incidents from Slack or Microsoft Teams.',
    category: 'chat',
    scope: 'person',
    requirement: null,
    signals: ['log entries through the slack or microsoft_teams channel'],
    // NOTE: the channel type strings for Microsoft Teams are not documented; these are guesses.
    events: [{ kind: 'log_entry_channel', channels: ['slack', 'microsoft_teams', 'teams'] }],
  },
  {
    key: 'web_sign_in',
    name: 'Web sign-in',
    description: 'Signing in to the PagerDuty web app.',
    category: 'web',
    scope: 'person',
    requirement: 'the Analytics feature for last sign-in, and a token that may read OAuth delegations for sessions',
    signals: ['web OAuth delegations', 'last_sign_in_at from /analytics/raw/users'],
    events: [{ kind: 'oauth_delegation', delegationType: 'web' }, { kind: 'analytics_sign_in' }],
  },
  {
    key: 'configuration_change',
    name: 'Configuration work',
    description: 'Creating, changing or deleting users, teams, schedules, escalation policies or services.',
    category: 'configuration',
    scope: 'person',
    requirement: 'Audit Trail plan feature and an admin token',
    signals: ['/audit/records with a user actor'],
    events: [{ kind: 'audit_record' }],
  },
  {
    key: 'stakeholder_subscription',
    name: 'Stakeholder subscriptions',
    description: 'Following business services or incidents as a stakeholder.',
    category: 'stakeholder',
    scope: 'person',
    requirement: 'a token that may read status update subscribers',
    signals: [
      '/business_services/{id}/subscribers of type user',
      '/business_services/{id}/subscribers of type team, for each current member of the team',
      `/incidents/{id}/status_updates/subscribers of type user or team, for incidents open or changed in the last ${INCIDENT_SUBSCRIBERS_RECENT_DAYS} days, at most ${MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN} a sync`,
    ],
    events: [{ kind: 'notification_subscription' }],
  },
  ...accountFeature('status_pages', 'Status pages', 'Public or private status pages for stakeholders.', 'Status pages add-on'),
  ...accountFeature('incident_workflows', 'Incident workflows', 'Automated workflows that run on incidents.', 'Business plan or higher'),
  ...accountFeature('event_orchestrations', 'Event orchestration', 'Rules that route and enrich incoming events.', 'AIOps for advanced rules'),
  ...accountFeature('automation_actions', 'Automation actions', 'Runbook automation actions and runners.', 'Automation add-on'),
  ...accountFeature('extensions', 'Extensions', 'Service extensions such as chat, ticketing and generic webhooks.', 'none'),
  ...accountFeature('addons', 'Add-ons', 'Custom pages added to the PagerDuty web app.', 'none'),
  ...accountFeature('business_services', 'Business services', 'Business services and the service graph.', 'Business plan or higher'),
  ...accountFeature('analytics', 'Analytics', 'PagerDuty Analytics (Insights) reports.', 'the Analytics feature in the PagerDuty plan'),
  ...accountFeature('priorities', 'Priorities', 'Incident priorities.', 'Business plan or higher'),
  ...accountFeature('custom_fields', 'Custom fields', 'Custom fields on incidents.', 'Business plan or higher'),
];

function accountFeature(key: string, name: string, description: string, requirement: string | 'none'): FeatureDefinition[] {
  return [
    {
      key: `account_${key}`,
      name,
      description,
      category: 'account',
      scope: 'account',
      requirement: requirement === 'none' ? null : requirement,
      signals: [`${key} resources in the account inventory`],
      events: [],
      inventoryFeature: key,
    },
  ];
}

/** Returns the catalogue entry of `key`, or undefined for a key the catalogue does not contain. */
export function findFeature(key: string): FeatureDefinition | undefined {
  return PAGERDUTY_FEATURES.find((feature) => feature.key === key);
}
