import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../index.ts';
import { ContractValidator, type SchemaPatch } from './openapi.ts';

/**
 * Places where PagerDuty's published OpenAPI description contradicts itself or the API, each
 * patched before validation. Every other difference fails the test.
 */
const KNOWN_DESCRIPTION_ERRORS: SchemaPatch[] = [
  {
    pointer: '/components/schemas/AcknowledgeLogEntry/allOf/1/properties/type',
    reason: 'The sub-schema says `acknowledgement_log_entry`, but the LogEntry enum it extends (and the API) use `acknowledge_log_entry`, so no acknowledgement could ever match.',
    apply: (node) => {
      node.enum = ['acknowledge_log_entry'];
    },
  },
  {
    pointer: '/components/schemas/Channel',
    reason: 'The five channel variants under `oneOf` constrain no `type` value, so a channel with only `type` matches several and `oneOf` can never pass; `anyOf` keeps the intent.',
    apply: (node) => {
      node.anyOf = node.oneOf;
      delete node.oneOf;
    },
  },
  {
    pointer: '/components/schemas/LicenseWithCounts/allOf/0/properties/self',
    reason: 'The description types `self` as a string, but its own /licenses example (and the API) return null for licenses.',
    apply: (node) => {
      node.nullable = true;
    },
  },
  {
    pointer: '/components/schemas/LicenseWithCounts/allOf/0/properties/html_url',
    reason: 'As for `self`: the /licenses example returns null.',
    apply: (node) => {
      node.nullable = true;
    },
  },
  {
    pointer: '/components/schemas/User/allOf/1/properties/contact_methods/items',
    reason: '`include[]=contact_methods` replaces the references by full contact methods, which the description does not model.',
    apply: (node) => {
      node.anyOf = [{ $ref: '#/components/schemas/ContactMethodReference' }, { $ref: '#/components/schemas/ContactMethod' }];
      delete node.$ref;
    },
  },
  {
    pointer: '/components/schemas/User/allOf/1/properties/notification_rules/items',
    reason: '`include[]=notification_rules` replaces the references by full rules, which the description does not model.',
    apply: (node) => {
      node.anyOf = [{ $ref: '#/components/schemas/NotificationRuleReference' }, { $ref: '#/components/schemas/NotificationRule' }];
      delete node.$ref;
    },
  },
  {
    pointer: '/components/schemas/User/allOf/1/properties/teams/items',
    reason: '`include[]=teams` replaces the references by full teams, which the description does not model.',
    apply: (node) => {
      node.anyOf = [{ $ref: '#/components/schemas/TeamReference' }, { $ref: '#/components/schemas/Team' }];
      delete node.$ref;
    },
  },
];

/** Marks a property nullable; the description puts each schema's own properties under `allOf/1` or at the top. */
function nullable(pointer: string, reason: string): SchemaPatch {
  return {
    pointer,
    reason,
    apply: (node) => {
      node.nullable = true;
    },
  };
}

/** Lets an array item or property be a full object where `include[]` expands a reference. */
function expandable(pointer: string, referenceSchema: string, fullSchema: string, reason: string): SchemaPatch {
  return {
    pointer,
    reason,
    apply: (node) => {
      for (const key of Object.keys(node)) delete node[key];
      node.anyOf = [{ $ref: `#/components/schemas/${referenceSchema}` }, { $ref: `#/components/schemas/${fullSchema}` }];
    },
  };
}

KNOWN_DESCRIPTION_ERRORS.push(
  nullable('/components/schemas/Oncall/properties/start', 'The field description says null means a permanent on-call, but the type is not nullable.'),
  nullable('/components/schemas/Oncall/properties/end', 'The field description says null means the user does not go off call, but the type is not nullable.'),
  nullable('/components/schemas/Oncall/properties/schedule', 'On-calls of a person an escalation rule targets directly come from no schedule, so PagerDuty returns null.'),
  nullable('/components/schemas/Incident/allOf/1/properties/priority', 'Incidents without a priority carry `"priority": null`, which connectors built on this description have failed to parse.'),
  nullable('/components/schemas/Incident/allOf/1/properties/resolved_at', 'Open incidents have no resolution time, and the type does not allow the null PagerDuty returns for them.'),
  nullable('/components/schemas/UserOAuthDelegations/properties/next_cursor', 'PagerDuty documents a null `next_cursor` as the end of cursor pagination.'),
  expandable('/components/schemas/Service/allOf/1/properties/integrations/items', 'IntegrationReference', 'Integration', '`include[]=integrations` returns full integrations.'),
  expandable('/components/schemas/LogEntry/allOf/1/properties/service', 'ServiceReference', 'Service', '`include[]=services` returns full services.'),
  expandable('/components/schemas/LogEntry/allOf/1/properties/incident', 'IncidentReference', 'Incident', '`include[]=incidents` returns full incidents.'),
  expandable('/components/schemas/LogEntry/allOf/1/properties/teams/items', 'TeamReference', 'Team', '`include[]=teams` returns full teams.'),
  expandable('/components/schemas/Notification/properties/user', 'UserReference', 'User', '`include[]=users` returns full users.'),
  expandable('/components/schemas/Oncall/properties/user', 'UserReference', 'User', '`include[]=users` returns full users.'),
  expandable('/components/schemas/Oncall/properties/escalation_policy', 'EscalationPolicyReference', 'EscalationPolicy', '`include[]=escalation_policies` returns full policies.'),
);

let simulator: RunningSimulator;
let validator: ContractValidator;
let oauthToken: string;
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

beforeAll(async () => {
  validator = new ContractValidator(KNOWN_DESCRIPTION_ERRORS);
  simulator = await startSimulator({ people: 60, seed: 21, plan: 'enterprise', now: new Date('2026-04-10T08:00:00Z') });

  const url = new URL('/oauth/authorize', simulator.identityUrl);
  url.search = new URLSearchParams({ client_id: simulator.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'read' }).toString();
  const { callbackUrl } = await completeConsent(url.toString(), simulator.login);
  const response = await fetch(`${simulator.identityUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: simulator.clientId, client_secret: simulator.clientSecret, code: callbackUrl.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI }),
  });
  oauthToken = String(((await response.json()) as { access_token: string }).access_token);
});

afterAll(async () => {
  await simulator?.close();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown, authorization = `Token token=${simulator.apiKey}`): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${simulator.apiUrl}${path}`, {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

async function firstId(path: string, key: string): Promise<string> {
  const { body } = await call('GET', path);
  const items = (body as Record<string, { id: string }[]>)[key];
  const id = items?.[0]?.id;
  if (id === undefined) throw new Error(`${path} returned no ${key} to pick an id from`);
  return id;
}

function describeErrors(errors: ReturnType<ContractValidator['validate']>): string {
  return errors
    .slice(0, 8)
    .map((error) => `${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`)
    .join('\n');
}

interface Case {
  template: string;
  method?: 'GET' | 'POST';
  path: string | (() => Promise<string>);
  body?: unknown;
  useOAuth?: boolean;
  /** Expected status, 200 unless given. */
  status?: number;
}

const CASES: Case[] = [
  { template: '/users', path: '/users?limit=100' },
  { template: '/users', path: '/users?limit=100&include[]=contact_methods&include[]=notification_rules&include[]=teams' },
  { template: '/users/me', path: '/users/me', useOAuth: true },
  { template: '/users/{id}', path: async () => `/users/${await firstId('/users', 'users')}` },
  { template: '/users/{id}/contact_methods', path: async () => `/users/${await firstId('/users', 'users')}/contact_methods` },
  { template: '/users/{id}/notification_rules', path: async () => `/users/${await firstId('/users', 'users')}/notification_rules` },
  { template: '/users/{id}/license', path: async () => `/users/${await firstId('/users', 'users')}/license` },
  { template: '/users/{id}/oauth_delegations', path: async () => `/users/${await firstId('/users', 'users')}/oauth_delegations` },
  { template: '/licenses', path: '/licenses' },
  { template: '/license_allocations', path: '/license_allocations?limit=100' },
  { template: '/abilities', path: '/abilities' },
  { template: '/teams', path: '/teams' },
  { template: '/teams/{id}', path: async () => `/teams/${await firstId('/teams', 'teams')}` },
  { template: '/teams/{id}/members', path: async () => `/teams/${await firstId('/teams', 'teams')}/members` },
  { template: '/schedules', path: '/schedules?include[]=schedule_layers' },
  { template: '/schedules', path: '/schedules' },
  { template: '/schedules/{id}', path: async () => `/schedules/${await firstId('/schedules', 'schedules')}` },
  { template: '/schedules/{id}/users', path: async () => `/schedules/${await firstId('/schedules', 'schedules')}/users?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z` },
  { template: '/oncalls', path: '/oncalls?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z&limit=100' },
  { template: '/oncalls', path: '/oncalls?include[]=users&include[]=escalation_policies' },
  { template: '/escalation_policies', path: '/escalation_policies' },
  { template: '/escalation_policies/{id}', path: async () => `/escalation_policies/${await firstId('/escalation_policies', 'escalation_policies')}` },
  { template: '/services', path: '/services?include[]=integrations' },
  { template: '/services', path: '/services' },
  { template: '/services/{id}', path: async () => `/services/${await firstId('/services', 'services')}` },
  {
    template: '/services/{id}/integrations/{integration_id}',
    path: async () => {
      const { body } = await call('GET', '/services?limit=1');
      const service = (body as { services: { id: string; integrations: { id: string }[] }[] }).services[0];
      return `/services/${service?.id ?? ''}/integrations/${service?.integrations[0]?.id ?? ''}`;
    },
  },
  { template: '/incidents', path: '/incidents?since=2026-01-15T00:00:00Z&until=2026-04-10T00:00:00Z&limit=100' },
  { template: '/incidents', path: '/incidents?date_range=all&limit=100&include[]=assignees&include[]=acknowledgers&statuses[]=acknowledged&statuses[]=triggered' },
  { template: '/incidents/{id}', path: async () => `/incidents/${await firstId('/incidents?date_range=all', 'incidents')}` },
  { template: '/incidents/{id}/log_entries', path: async () => `/incidents/${await firstId('/incidents?date_range=all', 'incidents')}/log_entries` },
  { template: '/log_entries', path: '/log_entries?limit=100' },
  { template: '/log_entries', path: '/log_entries?limit=100&offset=2000&include[]=channels&time_zone=America/New_York' },
  { template: '/log_entries', path: '/log_entries?limit=100&include[]=incidents&include[]=services&include[]=teams' },
  { template: '/log_entries/{id}', path: async () => `/log_entries/${await firstId('/log_entries', 'log_entries')}` },
  { template: '/notifications', path: '/notifications?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z&limit=100' },
  { template: '/notifications', path: '/notifications?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z&include[]=users' },
  { template: '/analytics/raw/users', method: 'POST', path: '/analytics/raw/users', body: { limit: 1000 } },
  { template: '/analytics/raw/incidents', method: 'POST', path: '/analytics/raw/incidents', body: { limit: 200, filters: { created_at_start: '2026-03-01T00:00:00Z', created_at_end: '2026-04-01T00:00:00Z' } } },
  {
    template: '/analytics/raw/responders/{responder_id}/incidents',
    method: 'POST',
    path: async () => `/analytics/raw/responders/${await firstId('/users', 'users')}/incidents`,
    body: { limit: 100 },
  },
  { template: '/audit/records', path: '/audit/records?since=2026-03-15T00:00:00Z&until=2026-04-10T00:00:00Z' },
  { template: '/status_pages', path: '/status_pages' },
  { template: '/incident_workflows', path: '/incident_workflows?include[]=team' },
  { template: '/business_services', path: '/business_services' },
  {
    template: '/business_services/{id}/subscribers',
    path: async () => `/business_services/${await firstId('/business_services', 'business_services')}/subscribers`,
  },
  { template: '/event_orchestrations', path: '/event_orchestrations' },
  { template: '/extensions', path: '/extensions' },
  { template: '/addons', path: '/addons' },
  { template: '/priorities', path: '/priorities' },
  { template: '/vendors', path: '/vendors' },
  { template: '/automation_actions/actions', path: '/automation_actions/actions' },
  { template: '/users', path: '/users?offset=9950&limit=100', status: 400 },
  { template: '/users', path: '/users', status: 401, useOAuth: true },
];

describe('OpenAPI contract', () => {
  it.each(CASES.map((testCase, index) => [`${testCase.method ?? 'GET'} ${typeof testCase.path === 'string' ? testCase.path : testCase.template} #${index}`, testCase] as const))(
    'matches %s',
    async (_name, testCase) => {
      const path = typeof testCase.path === 'string' ? testCase.path : await testCase.path();
      let authorization: string | undefined;
      if (testCase.useOAuth === true) authorization = `Bearer ${oauthToken}`;
      if (testCase.status === 401) authorization = 'Bearer pdus+_0unknown';
      const response = await call(testCase.method ?? 'GET', path, testCase.body, authorization);
      expect(response.status, JSON.stringify(response.body).slice(0, 400)).toBe(testCase.status ?? 200);
      const errors = validator.validate(testCase.method ?? 'GET', testCase.template, response.status, response.body);
      expect(errors, describeErrors(errors)).toEqual([]);
    },
  );

  it('matches every log entry type', async () => {
    const types = new Set<string>();
    const channels = new Set<string>();
    for (let offset = 0; offset < 10_000; offset += 100) {
      const { status, body } = await call('GET', `/log_entries?limit=100&offset=${offset}&include[]=channels&since=2026-01-01T00:00:00Z`);
      expect(status).toBe(200);
      const errors = validator.validate('GET', '/log_entries', 200, body);
      expect(errors, describeErrors(errors)).toEqual([]);
      const page = body as { log_entries: { type: string; channel: { type: string } }[]; more: boolean };
      for (const entry of page.log_entries) {
        types.add(entry.type);
        channels.add(entry.channel.type);
      }
      if (!page.more) break;
    }
    expect([...types].sort()).toEqual([
      'acknowledge_log_entry', 'annotate_log_entry', 'assign_log_entry', 'delegate_log_entry', 'escalate_log_entry', 'exhaust_escalation_path_log_entry',
      'notify_log_entry', 'reach_ack_limit_log_entry', 'reach_trigger_limit_log_entry', 'repeat_escalation_path_log_entry', 'resolve_log_entry',
      'snooze_log_entry', 'trigger_log_entry', 'urgency_change_log_entry',
    ]);
    for (const channel of ['api', 'auto', 'email', 'nagios', 'note', 'sms', 'timeout', 'website']) expect(channels).toContain(channel);
  });

  it('matches schedule overrides', async () => {
    // The description documents this GET with a 201 response and no body schema, so the list is checked item by item.
    const scheduleId = await firstId('/schedules', 'schedules');
    const { status, body } = await call('GET', `/schedules/${scheduleId}/overrides?since=2025-12-01T00:00:00Z&until=2026-06-01T00:00:00Z`);
    expect(status).toBe(200);
    const overrides = (body as { overrides: unknown[] }).overrides;
    expect(overrides.length).toBeGreaterThan(0);
    for (const override of overrides) expect(validator.validateAt('/components/schemas/Override', override)).toEqual([]);
  });

  it('matches incident subscribers', async () => {
    // An incident numbered a multiple of 30 has a stakeholder, a team and a member of that team as subscribers.
    const incidents = await call('GET', '/incidents?date_range=all&limit=100');
    const incident = (incidents.body as { incidents: { id: string; incident_number: number }[] }).incidents.find((candidate) => candidate.incident_number % 30 === 0);
    if (incident === undefined) throw new Error('The first 100 incidents have none numbered a multiple of 30');
    const { status, body } = await call('GET', `/incidents/${incident.id}/status_updates/subscribers`);
    expect(status).toBe(200);
    const subscribers = (body as { subscribers: { subscriber_type: string }[] }).subscribers;
    expect(subscribers.map((subscriber) => subscriber.subscriber_type).sort()).toEqual(['team', 'user', 'user']);
    const errors = validator.validate('GET', '/incidents/{id}/status_updates/subscribers', 200, body);
    expect(errors, describeErrors(errors)).toEqual([]);
  });

  it('fails on a broken response', async () => {
    const { body } = await call('GET', '/users?limit=3');
    const broken = structuredClone(body) as { users: Record<string, unknown>[] };
    const user = broken.users[0];
    if (user === undefined) throw new Error('/users returned no user');
    user.role = 'superuser';
    user.email = 42;
    const errors = validator.validate('GET', '/users', 200, broken);
    expect(errors.map((error) => error.instancePath)).toContain('/users/0/role');
    expect(errors.map((error) => error.instancePath)).toContain('/users/0/email');
  });

  it('fails on a broken log entry', async () => {
    const { body } = await call('GET', '/log_entries?limit=5');
    const broken = structuredClone(body) as { log_entries: Record<string, unknown>[] };
    const entry = broken.log_entries[0];
    if (entry === undefined) throw new Error('/log_entries returned no entry');
    entry.agent = { id: 'PX', type: 'robot_reference' };
    expect(validator.validate('GET', '/log_entries', 200, broken).length).toBeGreaterThan(0);
  });
});
