import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import { listMembers } from '../../accounts/members.ts';
import type { ActiveSession } from '../../accounts/sessions.ts';
import { addExemption, getContract, removeExemption, saveContract, setUnusedDays, type ContractError } from '../../analytics/contracts.ts';
import { PAGERDUTY_PROVIDER } from '../../analytics/pagerduty-features.ts';
import { DEFAULT_UNUSED_DAYS, recomputeRecommendationsOfOrganization } from '../../analytics/recommendations.ts';
import type { DB } from '../../db/schema.ts';
import { requireSession } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';

const settingsSchema = z.object({
  contract: z
    .object({
      plan: z.string().nullable(),
      currency: z.string(),
      billingPeriod: z.enum(['monthly', 'annual']),
      renewalDate: z.string().nullable(),
      noticePeriodDays: z.number(),
      lines: z.array(z.object({ licenseName: z.string(), roleGroup: z.string().nullable(), seats: z.number().nullable(), pricePerSeatMinor: z.number() })),
    })
    .nullable(),
  licenses: z.array(z.object({ licenseName: z.string(), roleGroup: z.string().nullable() })),
  unusedDays: z.number(),
  exemptions: z.array(z.object({ email: z.string(), reason: z.string().nullable(), createdAt: z.string() })),
  supportEmail: z.string().nullable(),
  members: z.array(z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.string() })),
  /**
   * In the response to a change that affects recommendations, the data instant they were
   * recomputed for. Null when nothing is synced yet, so the first sync computes them.
   */
  recommendationsRecomputedFor: z.string().nullable().optional(),
});

/** Builds the settings page of an organization. */
async function presentSettings(db: Kysely<DB>, organizationId: string): Promise<z.input<typeof settingsSchema>> {
  const contract = await getContract(db, organizationId);
  const licenses = await db
    .selectFrom('seat_summaries')
    .select(['license_name', 'role_group'])
    .where('organization_id', '=', organizationId)
    .distinct()
    .orderBy('license_name')
    .execute();
  const settings = await db
    .selectFrom('recommendation_settings')
    .select('unused_days')
    .where('organization_id', '=', organizationId)
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .executeTakeFirst();
  const exemptions = await db
    .selectFrom('recommendation_exemptions')
    .select(['email', 'reason', 'created_at'])
    .where('organization_id', '=', organizationId)
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .orderBy('email')
    .execute();
  const organization = await db.selectFrom('organizations').select('support_email').where('id', '=', organizationId).executeTakeFirstOrThrow();
  const members = await listMembers(db, organizationId);

  return {
    contract: contract && {
      plan: contract.plan,
      currency: contract.currency,
      billingPeriod: contract.billingPeriod,
      renewalDate: contract.renewalDate,
      noticePeriodDays: contract.noticePeriodDays,
      lines: contract.lines.map((line) => ({ licenseName: line.licenseName, roleGroup: line.roleGroup, seats: line.seats, pricePerSeatMinor: line.pricePerSeatMinor })),
    },
    licenses: licenses.map((license) => ({ licenseName: license.license_name, roleGroup: license.role_group })),
    unusedDays: settings?.unused_days ?? DEFAULT_UNUSED_DAYS,
    exemptions: exemptions.map((exemption) => ({ email: exemption.email, reason: exemption.reason, createdAt: exemption.created_at.toISOString() })),
    supportEmail: organization.support_email,
    members: members.map((member) => ({ id: member.userId, name: member.name, email: member.email, role: member.role })),
  };
}

function invalidSettings(error: ContractError): ApiError {
  const problems = error.problems.map((problem) => `${problem.field} ${problem.message}`).join('; ');
  return new ApiError('invalid_request', `The settings are invalid: ${problems}. Correct them and save again.`);
}

/** Settings: contract prices, the unused-seat threshold, the exempt list and the support email. */
export function registerSettingsRoutes(app: FastifyInstance, context: RouteContext): void {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  const audit = (session: ActiveSession, setting: string) =>
    recordAuditEvent(db, {
      organizationId: session.organization.id,
      actorUserId: session.user.id,
      actorLabel: session.user.email,
      action: 'settings.changed',
      details: { setting },
    });

  /** Recomputes recommendations with the saved settings, then builds the page. */
  const recomputeAndPresent = async (organizationId: string) => {
    const asOf = await recomputeRecommendationsOfOrganization(db, organizationId);
    return { ...(await presentSettings(db, organizationId)), recommendationsRecomputedFor: asOf?.toISOString() ?? null };
  };

  routes.get('/api/settings', {
    config: { access: 'viewer' },
    schema: { summary: 'The organization’s settings', response: { 200: settingsSchema } },
    handler: async (request) => presentSettings(db, requireSession(request).organization.id),
  });

  routes.put('/api/settings/contract', {
    config: { access: 'admin' },
    schema: {
      summary: 'Save the PagerDuty contract: plan, billing, renewal and price per license',
      // The contract's own schema in src/analytics/contracts.ts validates every field and names it.
      body: z.record(z.string(), z.unknown()),
      response: { 200: settingsSchema },
    },
    handler: async (request) => {
      const session = requireSession(request);
      const saved = await saveContract(db, session.organization.id, request.body);
      if (!saved.ok) throw invalidSettings(saved.error);
      await audit(session, 'contract');
      return recomputeAndPresent(session.organization.id);
    },
  });

  routes.put('/api/settings/recommendations', {
    config: { access: 'admin' },
    schema: { summary: 'Set after how many days without activity a seat counts as unused', body: z.object({ unusedDays: z.number().int() }), response: { 200: settingsSchema } },
    handler: async (request) => {
      const session = requireSession(request);
      const saved = await setUnusedDays(db, session.organization.id, request.body.unusedDays);
      if (!saved.ok) throw invalidSettings(saved.error);
      await audit(session, 'unusedDays');
      return recomputeAndPresent(session.organization.id);
    },
  });

  routes.post('/api/settings/exemptions', {
    config: { access: 'admin' },
    schema: {
      summary: 'Exempt a person from recommendations',
      body: z.object({ email: z.string().max(320), reason: z.string().trim().max(500).nullable().optional() }),
      response: { 200: settingsSchema },
    },
    handler: async (request) => {
      const session = requireSession(request);
      const saved = await addExemption(db, session.organization.id, request.body.email, request.body.reason || null);
      if (!saved.ok) throw invalidSettings(saved.error);
      await audit(session, 'exemptions');
      return recomputeAndPresent(session.organization.id);
    },
  });

  routes.delete('/api/settings/exemptions/:email', {
    config: { access: 'admin' },
    schema: { summary: 'Remove a person from the exempt list', params: z.object({ email: z.string().max(320) }), response: { 200: settingsSchema } },
    handler: async (request) => {
      const session = requireSession(request);
      await removeExemption(db, session.organization.id, request.params.email);
      await audit(session, 'exemptions');
      return recomputeAndPresent(session.organization.id);
    },
  });

  routes.put('/api/settings/support-email', {
    config: { access: 'admin' },
    schema: {
      summary: 'Set the support address shown where something fails; null uses the server default',
      body: z.object({ supportEmail: z.email('must be an email address').max(320).nullable() }),
      response: { 200: settingsSchema },
    },
    handler: async (request) => {
      const session = requireSession(request);
      await db.updateTable('organizations').set({ support_email: request.body.supportEmail }).where('id', '=', session.organization.id).execute();
      await audit(session, 'supportEmail');
      return presentSettings(db, session.organization.id);
    },
  });
}
