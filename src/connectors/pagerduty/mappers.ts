import type { Insertable } from 'kysely';
import type { z } from 'zod';
import type { DB } from '../../db/schema.ts';
import type {
  analyticsUserSchema,
  auditRecordSchema,
  featureResourceSchema,
  notificationSchema,
  oauthDelegationSchema,
  overrideSchema,
  PdEscalationPolicy,
  PdIncident,
  PdLicense,
  PdLicenseAllocation,
  PdLogEntry,
  PdOncall,
  PdSchedule,
  PdService,
  PdUser,
  teamMemberSchema,
  teamSchema,
} from './schemas.ts';
import type { InventoryFeature } from '../../db/schema.ts';

/** Row builders from PagerDuty payloads to the pd_* tables. Fields are copied by name. */

type Row<T extends keyof DB> = Insertable<DB[T]>;

export function userRow(connectionId: string, user: PdUser, syncedAt: Date): Row<'pd_users'> {
  return {
    connection_id: connectionId,
    id: user.id,
    name: user.name,
    email: user.email,
    role: user.role,
    time_zone: user.time_zone ?? null,
    job_title: user.job_title ?? null,
    invitation_sent: user.invitation_sent ?? false,
    html_url: user.html_url ?? null,
    raw: JSON.stringify(user),
    synced_at: syncedAt,
    deleted_at: null,
  };
}

export function contactMethodRows(connectionId: string, user: PdUser, syncedAt: Date): Row<'pd_contact_methods'>[] {
  return (user.contact_methods ?? []).map((method) => ({
    connection_id: connectionId,
    id: method.id,
    user_id: user.id,
    type: method.type,
    label: method.label ?? null,
    address: method.address ?? null,
    raw: JSON.stringify(method),
    synced_at: syncedAt,
  }));
}

export function notificationRuleRows(connectionId: string, user: PdUser, syncedAt: Date): Row<'pd_notification_rules'>[] {
  return (user.notification_rules ?? []).map((rule) => ({
    connection_id: connectionId,
    id: rule.id,
    user_id: user.id,
    urgency: rule.urgency ?? null,
    start_delay_in_minutes: rule.start_delay_in_minutes ?? null,
    contact_method_id: rule.contact_method?.id ?? null,
    contact_method_type: rule.contact_method?.type ?? null,
    raw: JSON.stringify(rule),
    synced_at: syncedAt,
  }));
}

export function licenseRow(connectionId: string, license: PdLicense, syncedAt: Date): Row<'pd_licenses'> {
  return {
    connection_id: connectionId,
    id: license.id,
    name: license.name,
    description: license.description ?? null,
    role_group: license.role_group,
    current_value: license.current_value,
    allocations_available: license.allocations_available ?? null,
    valid_roles: JSON.stringify(license.valid_roles ?? []),
    raw: JSON.stringify(license),
    synced_at: syncedAt,
  };
}

export function licenseAllocationRow(connectionId: string, allocation: PdLicenseAllocation, syncedAt: Date): Row<'pd_license_allocations'> {
  return {
    connection_id: connectionId,
    user_id: allocation.user.id,
    license_id: allocation.license.id,
    allocated_at: allocation.allocated_at ?? null,
    synced_at: syncedAt,
  };
}

export function logEntryRow(connectionId: string, entry: PdLogEntry): Row<'pd_log_entries'> {
  return {
    connection_id: connectionId,
    id: entry.id,
    type: entry.type,
    created_at: entry.created_at,
    agent_type: entry.agent?.type ?? null,
    agent_id: entry.agent?.id ?? null,
    channel_type: entry.channel?.type ?? null,
    incident_id: entry.incident?.id ?? null,
    service_id: entry.service?.id ?? null,
    user_id: entry.user?.id ?? null,
    summary: entry.summary ?? null,
    channel: entry.channel ? JSON.stringify(entry.channel) : null,
    assignee_ids: entry.assignees ? JSON.stringify(entry.assignees.map((assignee) => assignee.id)) : null,
  };
}

export function incidentRow(connectionId: string, incident: PdIncident, syncedAt: Date): Row<'pd_incidents'> {
  return {
    connection_id: connectionId,
    id: incident.id,
    incident_number: incident.incident_number ?? null,
    title: incident.title ?? null,
    status: incident.status,
    urgency: incident.urgency ?? null,
    created_at: incident.created_at,
    updated_at: incident.updated_at ?? null,
    resolved_at: incident.resolved_at ?? null,
    last_status_change_at: incident.last_status_change_at ?? null,
    last_status_change_by_type: incident.last_status_change_by?.type ?? null,
    last_status_change_by_id: incident.last_status_change_by?.id ?? null,
    service_id: incident.service?.id ?? null,
    escalation_policy_id: incident.escalation_policy?.id ?? null,
    priority_id: incident.priority?.id ?? null,
    raw: JSON.stringify(incident),
    synced_at: syncedAt,
  };
}

export function teamRow(connectionId: string, team: z.infer<typeof teamSchema>, syncedAt: Date): Row<'pd_teams'> {
  return {
    connection_id: connectionId,
    id: team.id,
    name: team.name,
    description: team.description ?? null,
    default_role: team.default_role ?? null,
    raw: JSON.stringify(team),
    synced_at: syncedAt,
    deleted_at: null,
  };
}

export function teamMemberRow(connectionId: string, teamId: string, member: z.infer<typeof teamMemberSchema>, syncedAt: Date): Row<'pd_team_members'> {
  return { connection_id: connectionId, team_id: teamId, user_id: member.user.id, role: member.role ?? null, synced_at: syncedAt };
}

export function escalationPolicyRow(connectionId: string, policy: PdEscalationPolicy, syncedAt: Date): Row<'pd_escalation_policies'> {
  return {
    connection_id: connectionId,
    id: policy.id,
    name: policy.name,
    description: policy.description ?? null,
    num_loops: policy.num_loops ?? null,
    raw: JSON.stringify(policy),
    synced_at: syncedAt,
    deleted_at: null,
  };
}

export function escalationTargetRows(connectionId: string, policy: PdEscalationPolicy, syncedAt: Date): Row<'pd_escalation_targets'>[] {
  return (policy.escalation_rules ?? []).flatMap((rule, position) =>
    (rule.targets ?? []).map((target) => ({
      connection_id: connectionId,
      escalation_policy_id: policy.id,
      rule_position: position,
      rule_id: rule.id ?? null,
      target_type: target.type ?? 'unknown',
      target_id: target.id,
      escalation_delay_in_minutes: rule.escalation_delay_in_minutes ?? null,
      synced_at: syncedAt,
    })),
  );
}

export function scheduleRow(connectionId: string, schedule: PdSchedule, syncedAt: Date): Row<'pd_schedules'> {
  return {
    connection_id: connectionId,
    id: schedule.id,
    name: schedule.name,
    description: schedule.description ?? null,
    time_zone: schedule.time_zone ?? null,
    raw: JSON.stringify(schedule),
    synced_at: syncedAt,
    deleted_at: null,
  };
}

export function scheduleLayerRows(connectionId: string, schedule: PdSchedule, syncedAt: Date): Row<'pd_schedule_layers'>[] {
  return (schedule.schedule_layers ?? []).map((layer) => ({
    connection_id: connectionId,
    schedule_id: schedule.id,
    id: layer.id,
    name: layer.name ?? null,
    start_at: layer.start ?? null,
    end_at: layer.end ?? null,
    rotation_virtual_start: layer.rotation_virtual_start ?? null,
    rotation_turn_length_seconds: layer.rotation_turn_length_seconds ?? null,
    raw: JSON.stringify(layer),
    synced_at: syncedAt,
  }));
}

export function scheduleLayerUserRows(connectionId: string, schedule: PdSchedule, syncedAt: Date): Row<'pd_schedule_layer_users'>[] {
  return (schedule.schedule_layers ?? []).flatMap((layer) =>
    (layer.users ?? []).map((entry, position) => ({
      connection_id: connectionId,
      schedule_id: schedule.id,
      layer_id: layer.id,
      position,
      user_id: entry.user.id,
      synced_at: syncedAt,
    })),
  );
}

export function overrideRow(connectionId: string, scheduleId: string, override: z.infer<typeof overrideSchema>, syncedAt: Date): Row<'pd_schedule_overrides'> {
  return {
    connection_id: connectionId,
    id: override.id,
    schedule_id: scheduleId,
    user_id: override.user?.id ?? null,
    start_at: override.start,
    end_at: override.end,
    raw: JSON.stringify(override),
    synced_at: syncedAt,
  };
}

export function oncallRow(connectionId: string, oncall: PdOncall, syncedAt: Date): Row<'pd_oncalls'> {
  const shiftKey = [oncall.escalation_policy?.id ?? '', oncall.escalation_level ?? '', oncall.schedule?.id ?? '', oncall.user.id, oncall.start ?? 'permanent'].join('|');
  return {
    connection_id: connectionId,
    shift_key: shiftKey,
    user_id: oncall.user.id,
    escalation_policy_id: oncall.escalation_policy?.id ?? null,
    escalation_level: oncall.escalation_level ?? null,
    schedule_id: oncall.schedule?.id ?? null,
    start_at: oncall.start ?? null,
    end_at: oncall.end ?? null,
    synced_at: syncedAt,
  };
}

export function serviceRow(connectionId: string, service: PdService, syncedAt: Date): Row<'pd_services'> {
  return {
    connection_id: connectionId,
    id: service.id,
    name: service.name,
    description: service.description ?? null,
    status: service.status ?? null,
    created_at: service.created_at ?? null,
    last_incident_timestamp: service.last_incident_timestamp ?? null,
    escalation_policy_id: service.escalation_policy?.id ?? null,
    raw: JSON.stringify(service),
    synced_at: syncedAt,
    deleted_at: null,
  };
}

export function serviceIntegrationRows(connectionId: string, service: PdService, syncedAt: Date): Row<'pd_service_integrations'>[] {
  return (service.integrations ?? []).map((integration) => ({
    connection_id: connectionId,
    id: integration.id,
    service_id: service.id,
    type: integration.type ?? 'unknown',
    name: integration.name ?? integration.summary ?? null,
    vendor_id: integration.vendor?.id ?? null,
    created_at: integration.created_at ?? null,
    raw: JSON.stringify(integration),
    synced_at: syncedAt,
  }));
}

export function notificationRow(connectionId: string, notification: z.infer<typeof notificationSchema>, syncedAt: Date): Row<'pd_notifications'> {
  return {
    connection_id: connectionId,
    id: notification.id,
    type: notification.type,
    started_at: notification.started_at,
    address: notification.address ?? null,
    user_id: notification.user?.id ?? null,
    raw: JSON.stringify(notification),
    synced_at: syncedAt,
  };
}

export function analyticsUserRow(connectionId: string, row: z.infer<typeof analyticsUserSchema>, syncedAt: Date): Row<'pd_analytics_users'> {
  return {
    connection_id: connectionId,
    user_id: row.id,
    last_sign_in_at: row.last_sign_in_at ?? null,
    downloaded_mobile_app: row.downloaded_mobile_app ?? null,
    signed_up: row.signed_up ?? null,
    on_escalation_policy: row.on_escalation_policy ?? null,
    on_schedule: row.on_schedule ?? null,
    channel_types_configured: row.channel_types_configured ? JSON.stringify(row.channel_types_configured) : null,
    raw: JSON.stringify(row),
    synced_at: syncedAt,
  };
}

export function oauthDelegationRow(
  connectionId: string,
  userId: string,
  delegation: z.infer<typeof oauthDelegationSchema>,
  syncedAt: Date,
): Row<'pd_oauth_delegations'> {
  return {
    connection_id: connectionId,
    id: delegation.id,
    user_id: userId,
    delegation_type: delegation.delegation_type ?? null,
    status: delegation.status ?? null,
    client_id: delegation.client_id ?? null,
    scope: delegation.scope ?? null,
    created_at: delegation.created_at ?? null,
    expires_at: delegation.expires_at ?? null,
    raw: JSON.stringify(delegation),
    synced_at: syncedAt,
  };
}

export function auditRecordRow(connectionId: string, record: z.infer<typeof auditRecordSchema>, syncedAt: Date): Row<'pd_audit_records'> {
  const actor = record.actors?.[0];
  return {
    connection_id: connectionId,
    id: record.id,
    execution_time: record.execution_time,
    actor_type: actor?.type ?? null,
    actor_id: actor?.id ?? null,
    method_type: record.method?.type ?? null,
    root_resource_type: record.root_resource?.type ?? null,
    root_resource_id: record.root_resource?.id ?? null,
    action: record.action ?? null,
    raw: JSON.stringify(record),
    synced_at: syncedAt,
  };
}

export function featureResourceRow(
  connectionId: string,
  feature: InventoryFeature,
  resource: z.infer<typeof featureResourceSchema>,
  syncedAt: Date,
): Row<'pd_feature_resources'> {
  return {
    connection_id: connectionId,
    feature,
    id: resource.id,
    name: resource.name ?? null,
    created_at: resource.created_at ?? null,
    is_enabled: resource.is_enabled ?? null,
    raw: JSON.stringify(resource),
    synced_at: syncedAt,
    deleted_at: null,
  };
}
