import { z } from 'zod';

/**
 * Response schemas of the PagerDuty REST API v2, as far as Seatwise reads them. Objects are loose
 * so unknown fields pass through into `raw` columns, and every reference and optional field is
 * nullable because PagerDuty sends null for absent references (incidents without a priority,
 * teams of deleted records, grouped alerts without a key).
 */

const nullableString = z.string().nullish();
const nullableNumber = z.number().nullish();
const nullableBoolean = z.boolean().nullish();

/** A `*_reference` object, or the full object when `include[]` expanded it. */
export const referenceSchema = z.looseObject({
  id: z.string(),
  type: nullableString,
  summary: nullableString,
});
export type Reference = z.infer<typeof referenceSchema>;

const nullableReference = referenceSchema.nullish();

export const contactMethodSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  label: nullableString,
  address: nullableString,
});

export const notificationRuleSchema = z.looseObject({
  id: z.string(),
  urgency: nullableString,
  start_delay_in_minutes: nullableNumber,
  contact_method: nullableReference,
});

export const userSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
  time_zone: nullableString,
  job_title: nullableString,
  invitation_sent: nullableBoolean,
  html_url: nullableString,
  contact_methods: z.array(contactMethodSchema).nullish(),
  notification_rules: z.array(notificationRuleSchema).nullish(),
  teams: z.array(referenceSchema).nullish(),
});
export type PdUser = z.infer<typeof userSchema>;

export const licenseSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: nullableString,
  role_group: z.string(),
  current_value: z.number(),
  allocations_available: nullableNumber,
  valid_roles: z.array(z.string()).nullish(),
});
export type PdLicense = z.infer<typeof licenseSchema>;

export const licenseAllocationSchema = z.looseObject({
  user: referenceSchema,
  license: referenceSchema,
  allocated_at: nullableString,
});
export type PdLicenseAllocation = z.infer<typeof licenseAllocationSchema>;

export const abilitiesResponseSchema = z.looseObject({ abilities: z.array(z.string()) });

export const channelSchema = z.looseObject({ type: nullableString });

export const logEntrySchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  created_at: z.string(),
  summary: nullableString,
  agent: nullableReference,
  channel: channelSchema.nullish(),
  incident: nullableReference,
  service: nullableReference,
  /** The person a `notify_log_entry` was sent to. */
  user: nullableReference,
  assignees: z.array(referenceSchema).nullish(),
});
export type PdLogEntry = z.infer<typeof logEntrySchema>;

export const incidentSchema = z.looseObject({
  id: z.string(),
  incident_number: nullableNumber,
  title: nullableString,
  status: z.string(),
  urgency: nullableString,
  created_at: z.string(),
  updated_at: nullableString,
  resolved_at: nullableString,
  last_status_change_at: nullableString,
  last_status_change_by: nullableReference,
  service: nullableReference,
  escalation_policy: nullableReference,
  priority: nullableReference,
});
export type PdIncident = z.infer<typeof incidentSchema>;

export const teamSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: nullableString,
  default_role: nullableString,
});

export const teamMemberSchema = z.looseObject({
  user: referenceSchema,
  role: nullableString,
});

export const escalationPolicySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: nullableString,
  num_loops: nullableNumber,
  escalation_rules: z
    .array(
      z.looseObject({
        id: nullableString,
        escalation_delay_in_minutes: nullableNumber,
        targets: z.array(referenceSchema).nullish(),
      }),
    )
    .nullish(),
});
export type PdEscalationPolicy = z.infer<typeof escalationPolicySchema>;

export const scheduleLayerSchema = z.looseObject({
  id: z.string(),
  name: nullableString,
  start: nullableString,
  end: nullableString,
  rotation_virtual_start: nullableString,
  rotation_turn_length_seconds: nullableNumber,
  users: z.array(z.looseObject({ user: referenceSchema })).nullish(),
});

export const scheduleSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: nullableString,
  time_zone: nullableString,
  schedule_layers: z.array(scheduleLayerSchema).nullish(),
});
export type PdSchedule = z.infer<typeof scheduleSchema>;

export const overrideSchema = z.looseObject({
  id: z.string(),
  start: z.string(),
  end: z.string(),
  user: nullableReference,
});

export const oncallSchema = z.looseObject({
  user: referenceSchema,
  escalation_policy: nullableReference,
  escalation_level: nullableNumber,
  schedule: nullableReference,
  start: nullableString,
  end: nullableString,
});
export type PdOncall = z.infer<typeof oncallSchema>;

export const serviceSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: nullableString,
  status: nullableString,
  created_at: nullableString,
  last_incident_timestamp: nullableString,
  escalation_policy: nullableReference,
  integrations: z
    .array(
      referenceSchema.extend({
        name: nullableString,
        created_at: nullableString,
        vendor: nullableReference,
      }),
    )
    .nullish(),
});
export type PdService = z.infer<typeof serviceSchema>;

export const notificationSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  started_at: z.string(),
  address: nullableString,
  user: nullableReference,
});

/** One row of `POST /analytics/raw/users`; `id` is the person's user id. */
export const analyticsUserSchema = z.looseObject({
  id: z.string(),
  last_sign_in_at: nullableString,
  downloaded_mobile_app: nullableBoolean,
  signed_up: nullableBoolean,
  on_escalation_policy: nullableBoolean,
  on_schedule: nullableBoolean,
  channel_types_configured: z.array(z.string()).nullish(),
});

export const analyticsPageSchema = z.looseObject({
  data: z.array(analyticsUserSchema),
  more: nullableBoolean,
  last: nullableString,
});

export const oauthDelegationSchema = z.looseObject({
  id: z.string(),
  status: nullableString,
  client_id: nullableString,
  delegation_type: nullableString,
  scope: nullableString,
  created_at: nullableString,
  expires_at: nullableString,
});

export const auditRecordSchema = z.looseObject({
  id: z.string(),
  execution_time: z.string(),
  actors: z.array(referenceSchema).nullish(),
  method: z.looseObject({ type: nullableString }).nullish(),
  root_resource: nullableReference,
  action: nullableString,
});

/** A resource of the account-level feature inventory (status page, workflow, extension, ...). */
export const featureResourceSchema = z.looseObject({
  id: z.string(),
  name: nullableString,
  created_at: nullableString,
  is_enabled: nullableBoolean,
});

/** Response of `GET /incidents/types`, which lists every type of the filter at once, without paging. */
export const incidentTypesResponseSchema = z.looseObject({
  incident_types: z.array(z.looseObject({ id: z.string(), name: nullableString, enabled: nullableBoolean })),
});

/** Response of `GET /incidents/types/{id}/custom_fields`: the custom fields of one incident type, without paging. */
export const incidentTypeCustomFieldsResponseSchema = z.looseObject({
  fields: z.array(z.looseObject({ id: z.string(), name: nullableString, display_name: nullableString, created_at: nullableString, enabled: nullableBoolean })),
});

export const currentUserResponseSchema = z.looseObject({ user: userSchema });

/** Builds the envelope schema of a classic offset-paginated list whose items are under `key`. */
export function offsetPageSchema<Item extends z.ZodType>(key: string, item: Item) {
  return z.looseObject({
    [key]: z.array(item),
    limit: nullableNumber,
    offset: nullableNumber,
    more: nullableBoolean,
    total: nullableNumber,
  });
}

/** Builds the envelope schema of a cursor-paginated list whose items are under `key`. */
export function cursorPageSchema<Item extends z.ZodType>(key: string, item: Item) {
  return z.looseObject({
    [key]: z.array(item),
    limit: nullableNumber,
    next_cursor: nullableString,
    more: nullableBoolean,
  });
}

/** Names the first failing field of a zod error, as `path: message`. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid response';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(body)';
  return `${path}: ${issue.message}`;
}
