import { PdError } from '../errors.ts';
import type { SimUser } from '../model.ts';
import { offsetPage, parseOffsetRequest } from '../paging.ts';
import { contactMethodObject, licenseAllocation, licenseFields, licenseWithCounts, notificationRuleObject, teamObject, userObject, userReference } from '../wire.ts';
import { arrayParam, callerRole, cursorPage, includes, isAdminRole, pathParam, requireAbility, type Json, type Route, type RouteInput } from './common.ts';

const USER_INCLUDES = ['contact_methods', 'notification_rules', 'teams', 'subdomains'] as const;
const USER_DETAIL_INCLUDES = [...USER_INCLUDES, 'calendar_urls'] as const;
const ID = '([A-Z0-9]+)';

function findUser(input: RouteInput): SimUser {
  const id = pathParam(input);
  const user = input.wire.index.user(id);
  if (user === undefined) throw new PdError('notFound', [`User ${id} not found; the person may have been deleted`]);
  return user;
}

function getCurrentUser(input: RouteInput): Json {
  const { caller, params, wire } = input;
  // NOTE: PagerDuty documents that account-level keys cannot call /users/me, but not the status it returns; 400 is a guess.
  if (caller.kind === 'account_api_key') {
    throw new PdError('invalidInput', ['/users/me needs a user-level API key or an OAuth token; account-level API keys act for no user']);
  }
  const user = wire.index.user(caller.userId);
  if (user === undefined) throw new PdError('notFound', [`User ${caller.userId} not found`]);
  return { user: userObject(wire, user, includes(params, USER_DETAIL_INCLUDES)) };
}

function getUser(input: RouteInput): Json {
  return { user: userObject(input.wire, findUser(input), includes(input.params, USER_DETAIL_INCLUDES)) };
}

function listUsers({ context, params, wire }: RouteInput): Json {
  const include = includes(params, USER_INCLUDES);
  const query = (params.get('query') ?? '').trim().toLowerCase();
  const teamIds = arrayParam(params, 'team_ids');
  if (teamIds.length > 0) requireAbility(context, 'teams');
  const paging = parseOffsetRequest(params);

  const matching = context.account.users.filter(
    (user) =>
      (query === '' || user.name.toLowerCase().includes(query) || user.email.toLowerCase().includes(query)) &&
      (teamIds.length === 0 || user.teamIds.some((teamId) => teamIds.includes(teamId))),
  );
  const page = offsetPage(paging, matching.length, (start, end) => matching.slice(start, end));
  return { users: page.items.map((user) => userObject(wire, user, include)), ...page.envelope };
}

function listContactMethods(input: RouteInput): Json {
  const user = findUser(input);
  return { contact_methods: user.contactMethods.map((method) => contactMethodObject(input.wire, user, method)) };
}

function listNotificationRules(input: RouteInput): Json {
  const user = findUser(input);
  const urgency = input.params.get('urgency') ?? 'high';
  if (!['high', 'low', 'all'].includes(urgency)) throw new PdError('invalidInput', [`urgency must be high, low or all, got "${urgency}"`]);
  const rules = user.notificationRules.filter((rule) => urgency === 'all' || rule.urgency === urgency);
  return { notification_rules: rules.map((rule) => notificationRuleObject(input.wire, user, rule)) };
}

function getUserLicense(input: RouteInput): Json {
  assertLicensesReadable(input.context);
  const user = findUser(input);
  const license = input.context.account.licenses.find((candidate) => candidate.id === user.licenseId);
  if (license === undefined) throw new PdError('notFound', [`User ${user.id} has no license`]);
  return { license: licenseFields(license) };
}

/**
 * Web and mobile sign-in sessions plus the app authorizations made through the simulator's OAuth flow.
 * People may read their own; reading another person's needs an admin.
 */
function listOauthDelegations(input: RouteInput): Json {
  const user = findUser(input);
  const isSelf = input.caller.kind !== 'account_api_key' && input.caller.userId === user.id;
  if (!isSelf && !isAdminRole(callerRole(input))) throw new PdError('accessDenied', [`Only an admin may list the OAuth delegations of user ${user.id}`]);

  const types = (input.params.get('delegation_type') ?? 'mobile,web,integration').split(',').map((type) => type.trim());
  const statuses = (input.params.get('status') ?? 'issued,revoked').split(',').map((status) => status.trim());
  for (const type of types) if (!['mobile', 'web', 'integration'].includes(type)) throw new PdError('invalidInput', [`delegation_type "${type}" is not one of mobile, web, integration`]);
  for (const status of statuses) if (!['issued', 'revoked'].includes(status)) throw new PdError('invalidInput', [`status "${status}" is not one of issued, revoked`]);

  const delegations = [
    ...user.sessions.map((session) => ({ ...session, scope: 'openid write' })),
    ...[...input.context.credentials.delegations.values()]
      .filter((delegation) => delegation.userId === user.id)
      .map((delegation) => ({
        id: delegation.id,
        type: 'integration' as const,
        clientId: delegation.clientId,
        createdAt: delegation.createdAt,
        expiresAt: new Date(delegation.createdAt.getTime() + input.context.settings.refreshTokenLifetimeSeconds * 1000),
        isRevoked: delegation.isRevoked,
        scope: delegation.scopes.join(' '),
      })),
  ]
    .filter((delegation) => types.includes(delegation.type) && statuses.includes(delegation.isRevoked ? 'revoked' : 'issued'))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());

  const page = cursorPage(input.params, delegations, 100, 100);
  return {
    oauth_delegations: page.items.map((delegation) => ({
      id: delegation.id,
      status: delegation.isRevoked ? 'revoked' : 'issued',
      client_id: delegation.clientId,
      delegation_type: delegation.type,
      scope: delegation.scope,
      created_at: input.wire.formatTime(delegation.createdAt),
      expires_at: input.wire.formatTime(delegation.expiresAt),
      self: `${input.wire.apiUrl}/users/${user.id}/oauth_delegations/${delegation.id}`,
    })),
    limit: page.limit,
    more: page.nextCursor !== null,
    next_cursor: page.nextCursor,
  };
}

/**
 * Throws the error PagerDuty returns for the license endpoints when they cannot be read: 403 Access
 * Denied (code 2010) for a token that may not read them, 404 Not Found (code 2100) for an account
 * without flexible licensing.
 */
function assertLicensesReadable(context: RouteInput['context']): void {
  const access = context.settings.licenseAccess;
  switch (access) {
    case 'readable':
      return;
    case 'forbidden':
      throw new PdError('accessDenied');
    case 'absent':
      throw new PdError('notFound');
    default: {
      const unhandled: never = access;
      throw new Error(`Unknown license access ${String(unhandled)}`);
    }
  }
}

function listLicenses({ context, wire }: RouteInput): Json {
  assertLicensesReadable(context);
  return { licenses: context.account.licenses.map((license) => licenseWithCounts(wire, license)) };
}

function listLicenseAllocations({ context, params, wire }: RouteInput): Json {
  assertLicensesReadable(context);
  const paging = parseOffsetRequest(params);
  const users = context.account.users;
  const page = offsetPage(paging, users.length, (start, end) => users.slice(start, end));
  return { license_allocations: page.items.map((user) => licenseAllocation(wire, user)), ...page.envelope };
}

function listAbilities({ context }: RouteInput): Json {
  return { abilities: [...context.account.abilities] };
}

/** Returns 204 when the account has the ability and 402 when it does not. */
function getAbility(input: RouteInput): null {
  requireAbility(input.context, pathParam(input));
  return null;
}

function listTeams({ context, params, wire }: RouteInput): Json {
  requireAbility(context, 'teams');
  const query = (params.get('query') ?? '').trim().toLowerCase();
  const paging = parseOffsetRequest(params);
  const teams = context.account.teams.filter((team) => query === '' || team.name.toLowerCase().includes(query));
  const page = offsetPage(paging, teams.length, (start, end) => teams.slice(start, end));
  return { teams: page.items.map((team) => teamObject(wire, team)), ...page.envelope };
}

function getTeam(input: RouteInput): Json {
  requireAbility(input.context, 'teams');
  const team = input.wire.index.team(pathParam(input));
  if (team === undefined) throw new PdError('notFound', [`Team ${pathParam(input)} not found`]);
  return { team: teamObject(input.wire, team) };
}

/** Team roles: admins and managers manage their teams, stakeholders observe, everyone else responds. */
function teamRole(user: SimUser): 'manager' | 'responder' | 'observer' {
  if (user.role === 'owner' || user.role === 'admin') return 'manager';
  if (user.role === 'read_only_user' || user.role === 'read_only_limited_user' || user.role === 'observer') return 'observer';
  return 'responder';
}

function listTeamMembers(input: RouteInput): Json {
  requireAbility(input.context, 'teams');
  const team = input.wire.index.team(pathParam(input));
  if (team === undefined) throw new PdError('notFound', [`Team ${pathParam(input)} not found`]);
  const include = includes(input.params, ['users']);
  const paging = parseOffsetRequest(input.params);
  const members = input.context.account.users.filter((user) => user.teamIds.includes(team.id));
  const page = offsetPage(paging, members.length, (start, end) => members.slice(start, end));
  return {
    members: page.items.map((user) => ({ user: include.has('users') ? userObject(input.wire, user, new Set()) : userReference(input.wire, user, user.id), role: teamRole(user) })),
    ...page.envelope,
  };
}

export const PEOPLE_ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/users\/me$/, scope: null, handle: getCurrentUser },
  { method: 'GET', pattern: /^\/users$/, scope: 'users.read', handle: listUsers },
  { method: 'GET', pattern: new RegExp(`^/users/${ID}$`), scope: 'users.read', handle: getUser },
  { method: 'GET', pattern: new RegExp(`^/users/${ID}/contact_methods$`), scope: 'users:contact_methods.read', handle: listContactMethods },
  { method: 'GET', pattern: new RegExp(`^/users/${ID}/notification_rules$`), scope: 'users:contact_methods.read', handle: listNotificationRules },
  { method: 'GET', pattern: new RegExp(`^/users/${ID}/license$`), scope: 'licenses.read', handle: getUserLicense },
  { method: 'GET', pattern: new RegExp(`^/users/${ID}/oauth_delegations$`), scope: 'oauth_delegations.read', handle: listOauthDelegations },
  { method: 'GET', pattern: /^\/licenses$/, scope: 'licenses.read', handle: listLicenses },
  { method: 'GET', pattern: /^\/license_allocations$/, scope: 'licenses.read', handle: listLicenseAllocations },
  { method: 'GET', pattern: /^\/abilities$/, scope: 'abilities.read', handle: listAbilities },
  { method: 'GET', pattern: /^\/abilities\/([a-z_]+)$/, scope: 'abilities.read', handle: getAbility },
  { method: 'GET', pattern: /^\/teams$/, scope: 'teams.read', handle: listTeams },
  { method: 'GET', pattern: new RegExp(`^/teams/${ID}$`), scope: 'teams.read', handle: getTeam },
  { method: 'GET', pattern: new RegExp(`^/teams/${ID}/members$`), scope: 'teams.read', handle: listTeamMembers },
];
