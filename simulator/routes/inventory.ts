import { PdError } from '../errors.ts';
import type { SimIncident, SimService } from '../model.ts';
import { offsetPage, parseOffsetRequest } from '../paging.ts';
import { teamReference, userReference } from '../wire.ts';
import { arrayParam, cursorPage, includes, pathParam, reference, requireAbility, type Json, type Route, type RouteInput } from './common.ts';

const ID = '([A-Z0-9]+)';

/** Pages a list with PagerDuty's offset rules under the response key `key`. */
function offsetList<T>(input: RouteInput, key: string, items: T[], toWire: (item: T) => Json): Json {
  const paging = parseOffsetRequest(input.params);
  const page = offsetPage(paging, items.length, (start, end) => items.slice(start, end));
  return { [key]: page.items.map(toWire), ...page.envelope };
}

function integrationObject(input: RouteInput, service: SimService): Json {
  const { wire } = input;
  return {
    id: service.integrationId,
    type: 'events_api_v2_inbound_integration',
    summary: service.integrationName,
    self: `${wire.apiUrl}/services/${service.id}/integrations/${service.integrationId}`,
    html_url: `https://${wire.account.subdomain}.pagerduty.com/services/${service.id}/integrations/${service.integrationId}`,
    name: service.integrationName,
    service: reference(wire, 'service_reference', service.id, service.name, `/services/${service.id}`, `/service-directory/${service.id}`),
    created_at: wire.formatTime(service.createdAt),
  };
}

export function serviceObject(input: RouteInput, service: SimService, include: Set<string>): Json {
  const { wire, context } = input;
  const team = wire.index.team(service.teamId);
  const policy = context.account.escalationPolicies.find((candidate) => candidate.id === service.escalationPolicyId);
  let lastIncident: SimIncident | undefined;
  context.account.history.scanIncidents(-Infinity, context.dataNowMs() + 1, 'newest_first', (incident) => {
    if (incident.serviceId !== service.id) return true;
    lastIncident = incident;
    return false;
  });
  const integrationReference = reference(wire, 'generic_events_api_inbound_integration_reference', service.integrationId, service.integrationName, `/services/${service.id}/integrations/${service.integrationId}`, null);
  return {
    id: service.id,
    type: 'service',
    summary: service.name,
    self: `${wire.apiUrl}/services/${service.id}`,
    html_url: `https://${wire.account.subdomain}.pagerduty.com/service-directory/${service.id}`,
    name: service.name,
    description: service.description,
    auto_resolve_timeout: 14_400,
    acknowledgement_timeout: 1_800,
    created_at: wire.formatTime(service.createdAt),
    status: 'active',
    ...(lastIncident === undefined ? {} : { last_incident_timestamp: wire.formatTime(lastIncident.createdAt) }),
    escalation_policy: reference(wire, 'escalation_policy_reference', service.escalationPolicyId, policy?.name ?? null, `/escalation_policies/${service.escalationPolicyId}`, `/escalation_policies/${service.escalationPolicyId}`),
    teams: team === undefined ? [] : [teamReference(wire, team)],
    integrations: [include.has('integrations') ? integrationObject(input, service) : integrationReference],
    incident_urgency_rule: { type: 'constant', urgency: 'high' },
    alert_creation: 'create_alerts_and_incidents',
  };
}

function listServices(input: RouteInput): Json {
  const include = includes(input.params, ['escalation_policies', 'teams', 'integrations', 'auto_pause_notifications_parameters']);
  const query = (input.params.get('query') ?? '').trim().toLowerCase();
  const name = input.params.get('name');
  const teamIds = arrayParam(input.params, 'team_ids');
  if (teamIds.length > 0) requireAbility(input.context, 'teams');
  const services = input.context.account.services.filter(
    (service) => (query === '' || service.name.toLowerCase().includes(query)) && (name === null || service.name === name) && (teamIds.length === 0 || teamIds.includes(service.teamId)),
  );
  return offsetList(input, 'services', services, (service) => serviceObject(input, service, include));
}

function findService(input: RouteInput): SimService {
  const service = input.wire.index.service(pathParam(input));
  if (service === undefined) throw new PdError('notFound', [`Service ${pathParam(input)} not found`]);
  return service;
}

function getService(input: RouteInput): Json {
  return { service: serviceObject(input, findService(input), includes(input.params, ['escalation_policies', 'teams', 'integrations', 'auto_pause_notifications_parameters'])) };
}

function getIntegration(input: RouteInput): Json {
  const service = findService(input);
  if (service.integrationId !== pathParam(input, 1)) throw new PdError('notFound', [`Integration ${pathParam(input, 1)} not found on service ${service.id}`]);
  return { integration: integrationObject(input, service) };
}

function listStatusPages(input: RouteInput): Json {
  const type = input.params.get('status_page_type');
  const pages = input.context.account.inventory.statusPages.filter((page) => type === null || page.type === type);
  return offsetList(input, 'status_pages', pages, (page) => ({
    id: page.id,
    type: 'status_page',
    name: page.name,
    status_page_type: page.type,
    url: `https://status.acme-demo.example/${page.id.toLowerCase()}`,
    published_at: page.publishedAt === null ? null : input.wire.formatTime(page.publishedAt),
  }));
}

function listIncidentWorkflows(input: RouteInput): Json {
  requireAbility(input.context, 'incident_workflows');
  const include = includes(input.params, ['steps', 'team']);
  const query = (input.params.get('query') ?? '').trim().toLowerCase();
  const workflows = input.context.account.inventory.incidentWorkflows.filter((workflow) => query === '' || workflow.name.toLowerCase().includes(query));
  return offsetList(input, 'incident_workflows', workflows, (workflow) => {
    const team = input.wire.index.team(workflow.teamId);
    return {
      id: workflow.id,
      type: 'incident_workflow',
      summary: workflow.name,
      self: `${input.wire.apiUrl}/incident_workflows/${workflow.id}`,
      html_url: null,
      name: workflow.name,
      description: workflow.name,
      created_at: input.wire.formatTime(workflow.createdAt),
      is_enabled: workflow.isEnabled,
      ...(team === undefined ? {} : { team: include.has('team') ? { id: team.id, type: 'team_reference', summary: team.name, self: `${input.wire.apiUrl}/teams/${team.id}` } : { id: team.id, type: 'team_reference' } }),
      ...(include.has('steps') ? { steps: [] } : {}),
    };
  });
}

/** `GET /business_services/{id}/subscribers`: the users and teams that follow one business service. */
function listBusinessServiceSubscribers(input: RouteInput): Json {
  const { account } = input.context;
  const serviceId = pathParam(input);
  if (!account.inventory.businessServices.some((service) => service.id === serviceId)) throw new PdError('notFound', [`Business service ${serviceId} not found`]);
  const subscribers = account.inventory.businessServiceSubscribers.filter((subscriber) => subscriber.businessServiceId === serviceId);
  return {
    ...offsetList(input, 'subscribers', subscribers, (subscriber) => ({ subscriber_id: subscriber.subscriberId, subscriber_type: subscriber.subscriberType })),
    account_id: account.id,
  };
}

function listBusinessServices(input: RouteInput): Json {
  return offsetList(input, 'business_services', input.context.account.inventory.businessServices, (service) => {
    const team = input.wire.index.team(service.teamId);
    return {
      id: service.id,
      type: 'business_service',
      summary: service.name,
      self: `${input.wire.apiUrl}/business_services/${service.id}`,
      html_url: null,
      name: service.name,
      description: service.name,
      point_of_contact: service.pointOfContact,
      ...(team === undefined ? {} : { team: { id: team.id, type: 'team_reference', self: `${input.wire.apiUrl}/teams/${team.id}` } }),
    };
  });
}

function listEventOrchestrations(input: RouteInput): Json {
  return offsetList(input, 'orchestrations', input.context.account.inventory.eventOrchestrations, (orchestration) => ({
    id: orchestration.id,
    self: `${input.wire.apiUrl}/event_orchestrations/${orchestration.id}`,
    name: orchestration.name,
    description: orchestration.name,
    team: { id: orchestration.teamId },
    routes: orchestration.routes,
    created_at: input.wire.formatTime(orchestration.createdAt),
    created_by: userReference(input.wire, input.wire.index.anyUser(orchestration.createdByUserId), orchestration.createdByUserId),
    updated_at: input.wire.formatTime(orchestration.createdAt),
    updated_by: userReference(input.wire, input.wire.index.anyUser(orchestration.createdByUserId), orchestration.createdByUserId),
    version: '1',
  }));
}

function listExtensions(input: RouteInput): Json {
  includes(input.params, ['extension_objects', 'extension_schemas']);
  const objectId = input.params.get('extension_object_id');
  const extensions = input.context.account.inventory.extensions.filter((extension) => objectId === null || extension.serviceId === objectId);
  return offsetList(input, 'extensions', extensions, (extension) => {
    const service = input.wire.index.service(extension.serviceId);
    return {
      id: extension.id,
      type: 'extension',
      summary: extension.name,
      self: `${input.wire.apiUrl}/extensions/${extension.id}`,
      html_url: null,
      name: extension.name,
      endpoint_url: `https://hooks.acme-demo.example/${extension.id.toLowerCase()}`,
      extension_schema: reference(input.wire, 'extension_schema_reference', extension.schemaId, extension.schemaName, `/extension_schemas/${extension.schemaId}`, null),
      extension_objects: [reference(input.wire, 'service_reference', extension.serviceId, service?.name ?? null, `/services/${extension.serviceId}`, `/service-directory/${extension.serviceId}`)],
      temporarily_disabled: extension.isDisabled,
    };
  });
}

function listAddons(input: RouteInput): Json {
  includes(input.params, ['services']);
  const filter = input.params.get('filter');
  const addons = input.context.account.inventory.addons.filter((addon) => filter === null || addon.type === filter);
  return offsetList(input, 'addons', addons, (addon) => ({
    id: addon.id,
    type: `${addon.type}_reference`,
    summary: addon.name,
    self: `${input.wire.apiUrl}/addons/${addon.id}`,
    html_url: null,
    name: addon.name,
    src: addon.src,
  }));
}

function listPriorities(input: RouteInput): Json {
  requireAbility(input.context, 'priorities');
  return offsetList(input, 'priorities', input.context.account.inventory.priorities, (priority) => ({
    id: priority.id,
    type: 'priority',
    summary: priority.name,
    self: `${input.wire.apiUrl}/priorities/${priority.id}`,
    html_url: null,
    name: priority.name,
    description: priority.description,
  }));
}

function listVendors(input: RouteInput): Json {
  return offsetList(input, 'vendors', input.context.account.inventory.vendors, (vendor) => ({
    id: vendor.id,
    type: 'vendor',
    summary: vendor.name,
    self: `${input.wire.apiUrl}/vendors/${vendor.id}`,
    html_url: null,
    name: vendor.name,
    website_url: vendor.websiteUrl,
    description: vendor.description,
  }));
}

function listAutomationActions(input: RouteInput): Json {
  requireAbility(input.context, 'automation_actions');
  const page = cursorPage(input.params, input.context.account.inventory.automationActions, 25, 100);
  return {
    actions: page.items.map((action) => ({
      id: action.id,
      type: 'action',
      summary: action.name,
      self: `${input.wire.apiUrl}/automation_actions/actions/${action.id}`,
      html_url: null,
      name: action.name,
      description: action.description,
      action_type: 'script',
      runner: action.runnerId,
      runner_type: 'runbook',
      services: action.serviceIds.map((serviceId) => ({ id: serviceId, type: 'service_reference' })),
      creation_time: input.wire.formatTime(action.createdAt),
      modify_time: input.wire.formatTime(action.createdAt),
      action_data_reference: { script: 'systemctl restart web', invocation_command: '/bin/sh' },
    })),
    // A read-only token may not create, update, delete or invoke actions.
    privileges: { permissions: [] },
    limit: page.limit,
    next_cursor: page.nextCursor,
  };
}

/** Serves `GET /incidents/types`: the enabled incident types, the base type among them, without paging. `filter` selects disabled or all types. */
function listIncidentTypes(input: RouteInput): Json {
  const filter = input.params.get('filter') ?? 'enabled';
  if (filter !== 'enabled' && filter !== 'disabled' && filter !== 'all') throw new PdError('invalidInput', [`filter must be "enabled", "disabled" or "all", got "${filter}"`]);
  const types = input.context.account.inventory.incidentTypes.filter((type) => filter === 'all' || type.enabled === (filter === 'enabled'));
  return {
    incident_types: types.map((type) => ({
      id: type.id,
      type: 'incident_type',
      name: type.name,
      display_name: type.displayName,
      description: null,
      enabled: type.enabled,
      parent: type.parentId === null ? null : { id: type.parentId, type: 'incident_type_reference' },
      created_at: input.wire.formatTime(type.createdAt),
      updated_at: input.wire.formatTime(type.createdAt),
    })),
  };
}

/** Serves `GET /incidents/types/{type_id_or_name}/custom_fields`: the fields defined on one incident type, without paging. */
function listIncidentTypeCustomFields(input: RouteInput): Json {
  requireAbility(input.context, 'custom_fields');
  const key = pathParam(input);
  const incidentType = input.context.account.inventory.incidentTypes.find((type) => type.id === key || type.name === key);
  if (incidentType === undefined) throw new PdError('notFound', [`Incident type ${key} not found; list the types with GET /incidents/types`]);
  const fields = input.context.account.inventory.customFields.filter((field) => field.incidentTypeId === incidentType.id);
  return {
    fields: fields.map((field) => ({
      id: field.id,
      type: 'field',
      summary: field.name,
      self: `${input.wire.apiUrl}/incidents/types/${incidentType.id}/custom_fields/${field.id}`,
      name: field.name,
      display_name: field.displayName,
      description: null,
      field_type: 'single_value',
      data_type: 'string',
      default_value: null,
      enabled: field.enabled,
      incident_type: incidentType.name,
      created_at: input.wire.formatTime(field.createdAt),
      updated_at: input.wire.formatTime(field.createdAt),
    })),
  };
}

export const INVENTORY_ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/services$/, scope: 'services.read', handle: listServices },
  { method: 'GET', pattern: new RegExp(`^/services/${ID}$`), scope: 'services.read', handle: getService },
  { method: 'GET', pattern: new RegExp(`^/services/${ID}/integrations/${ID}$`), scope: 'services.read', handle: getIntegration },
  { method: 'GET', pattern: /^\/status_pages$/, scope: 'status_pages.read', handle: listStatusPages },
  { method: 'GET', pattern: /^\/incident_workflows$/, scope: 'incident_workflows.read', handle: listIncidentWorkflows },
  { method: 'GET', pattern: /^\/business_services$/, scope: 'services.read', handle: listBusinessServices },
  { method: 'GET', pattern: new RegExp(`^/business_services/${ID}/subscribers$`), scope: 'subscribers.read', handle: listBusinessServiceSubscribers },
  { method: 'GET', pattern: /^\/event_orchestrations$/, scope: 'event_orchestrations.read', handle: listEventOrchestrations },
  { method: 'GET', pattern: /^\/extensions$/, scope: 'extensions.read', handle: listExtensions },
  { method: 'GET', pattern: /^\/addons$/, scope: 'addons.read', handle: listAddons },
  { method: 'GET', pattern: /^\/priorities$/, scope: 'priorities.read', handle: listPriorities },
  { method: 'GET', pattern: /^\/vendors$/, scope: 'vendors.read', handle: listVendors },
  { method: 'GET', pattern: /^\/automation_actions\/actions$/, scope: null, handle: listAutomationActions },
  { method: 'GET', pattern: /^\/incidents\/types$/, scope: 'incident_types.read', handle: listIncidentTypes },
  { method: 'GET', pattern: /^\/incidents\/types\/([A-Za-z0-9_]+)\/custom_fields$/, scope: 'custom_fields.read', handle: listIncidentTypeCustomFields },
];
