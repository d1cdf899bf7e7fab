import { PdError } from '../errors.ts';
import type { SimAuditRecord } from '../model.ts';
import { arrayParam, callerRole, cursorPage, instantParam, isAdminRole, reference, requireAbility, type Json, type Route, type RouteInput } from './common.ts';

const DAY_MS = 86_400_000;
/** `until` may be at most 31 days after `since`; without `since` the last 24 hours are served. */
const MAX_AUDIT_WINDOW_DAYS = 31;
const DEFAULT_AUDIT_WINDOW_MS = DAY_MS;
/** NOTE: PagerDuty documents no default or maximum `limit` for audit records; 100 is an assumption. */
const AUDIT_PAGE_LIMIT = 100;

const ROOT_TYPES = ['users', 'teams', 'schedules', 'escalation_policies', 'services', 'ip_allow_lists'] as const;
const METHOD_TYPES = ['browser', 'oauth', 'api_token', 'identity_provider', 'other'] as const;
const ACTIONS = ['create', 'update', 'delete'] as const;
const ACTOR_TYPES = ['user_reference', 'api_key_reference', 'app_reference'] as const;

function checkValues(name: string, values: string[], allowed: readonly string[]): void {
  for (const value of values) if (!allowed.includes(value)) throw new PdError('invalidInput', [`${name} value "${value}" is not one of ${allowed.join(', ')}`]);
}

/**
 * `GET /audit/records`: the account's configuration changes, newest first, by cursor. Only admins,
 * the owner and account API keys may read it, and only on plans with the audit trail.
 */
function listAuditRecords(input: RouteInput): Json {
  const { params, context, wire } = input;
  requireAbility(context, 'audit_records');
  if (!isAdminRole(callerRole(input))) throw new PdError('accessDenied', ['Audit records are visible only to admins, the account owner and account API keys']);

  const now = context.dataNowMs();
  const untilMs = instantParam(params, 'until', input.timeZone) ?? now;
  const sinceMs = instantParam(params, 'since', input.timeZone) ?? untilMs - DEFAULT_AUDIT_WINDOW_MS;
  if (untilMs < sinceMs) throw new PdError('invalidInput', ['until must not be before since']);
  if (untilMs - sinceMs > MAX_AUDIT_WINDOW_DAYS * DAY_MS) throw new PdError('invalidInput', [`until may be at most ${MAX_AUDIT_WINDOW_DAYS} days after since; split the range into smaller windows`]);

  const rootTypes = arrayParam(params, 'root_resource_types');
  const actions = arrayParam(params, 'actions');
  const methodType = params.get('method_type');
  const actorType = params.get('actor_type');
  const actorId = params.get('actor_id');
  checkValues('root_resource_types[]', rootTypes, ROOT_TYPES);
  checkValues('actions[]', actions, ACTIONS);
  if (methodType !== null) checkValues('method_type', [methodType], METHOD_TYPES);
  if (actorType !== null) checkValues('actor_type', [actorType], ACTOR_TYPES);
  if (actorId !== null && actorType === null) throw new PdError('invalidInput', ['actor_id needs actor_type']);

  const records = context.account.auditRecords.filter((record) => {
    const at = record.executionTime.getTime();
    return (
      at >= sinceMs &&
      at < untilMs &&
      (rootTypes.length === 0 || rootTypes.includes(record.rootType)) &&
      (actions.length === 0 || actions.includes(record.action)) &&
      (methodType === null || record.methodType === methodType) &&
      (actorType === null || actorType === 'user_reference') &&
      (actorId === null || record.actorUserId === actorId)
    );
  });
  const page = cursorPage(params, records, AUDIT_PAGE_LIMIT, AUDIT_PAGE_LIMIT);
  return { records: page.items.map((record) => auditRecordObject(input, record)), limit: page.limit, next_cursor: page.nextCursor };
}

const ROOT_REFERENCE_TYPES: Record<SimAuditRecord['rootType'], string> = {
  users: 'user_reference',
  teams: 'team_reference',
  schedules: 'schedule_reference',
  escalation_policies: 'escalation_policy_reference',
  services: 'service_reference',
};

function auditRecordObject(input: RouteInput, record: SimAuditRecord): Json {
  const { wire } = input;
  const actor = wire.index.anyUser(record.actorUserId);
  const root = reference(wire, ROOT_REFERENCE_TYPES[record.rootType], record.rootId, record.rootName, `/${record.rootType}/${record.rootId}`, `/${record.rootType}/${record.rootId}`);
  return {
    id: record.id,
    self: `${wire.apiUrl}/audit/records/${record.id}`,
    execution_time: new Date(record.executionTime).toISOString(),
    execution_context: { request_id: `req-${record.id.toLowerCase()}`, remote_address: '192.0.2.10' },
    actors: [reference(wire, 'user_reference', record.actorUserId, actor?.name ?? null, `/users/${record.actorUserId}`, `/users/${record.actorUserId}`)],
    method: { type: record.methodType, truncated_token: record.methodType === 'browser' ? null : 'x9Kq', description: record.methodType === 'oauth' ? 'Seatwise' : null },
    root_resource: root,
    action: record.action,
    details:
      record.field === null
        ? null
        : { resource: root, fields: [{ name: record.field.name, description: null, before_value: record.field.before, value: record.field.value }] },
  };
}

export const AUDIT_ROUTES: Route[] = [{ method: 'GET', pattern: /^\/audit\/records$/, scope: 'audit_records.read', handle: listAuditRecords }];
