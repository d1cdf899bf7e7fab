import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { recordAuditEvent } from '../../accounts/audit.ts';
import type { ActiveSession } from '../../accounts/sessions.ts';
import { peopleQuerySchema } from '../../dashboard/people.ts';
import { attachmentDisposition } from '../../exports/csv.ts';
import { exportPeopleCsv } from '../../exports/people.ts';
import { exportRecommendationsCsv } from '../../exports/recommendations.ts';
import { requireSession } from '../access.ts';
import type { RouteContext } from '../context.ts';

/** Query fields that choose a page of the table, not its rows, so an export ignores them. */
const PAGING_FIELDS = new Set(['page', 'pageSize']);

/** Registers the CSV downloads of the dashboard tables. Every download is written to the audit log. */
export function registerExportRoutes(app: FastifyInstance, context: RouteContext): void {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  const audit = (session: ActiveSession, action: 'people.exported' | 'recommendations.exported', filters: Record<string, unknown>, rowCount: number) =>
    recordAuditEvent(db, {
      organizationId: session.organization.id,
      actorUserId: session.user.id,
      actorLabel: session.user.email,
      action,
      details: { filters: JSON.stringify(filters), rowCount },
    });

  routes.get('/api/exports/people.csv', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Every person the people table lists for these filters and this sort, over all pages, as CSV',
      querystring: peopleQuerySchema,
      produces: ['text/csv'],
    },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const exported = await exportPeopleCsv(db, session.organization.id, request.query);
      await audit(session, 'people.exported', withoutPaging(request.query), exported.rowCount);
      return sendCsv(reply, `seatwise-people-${today()}.csv`, exported.csv);
    },
  });

  routes.get('/api/exports/recommendations.csv', {
    config: { access: 'viewer' },
    schema: { summary: 'Every recommendation the recommendations page lists, as CSV', produces: ['text/csv'] },
    handler: async (request, reply) => {
      const session = requireSession(request);
      const exported = await exportRecommendationsCsv(db, session.organization.id);
      await audit(session, 'recommendations.exported', {}, exported.rowCount);
      return sendCsv(reply, `seatwise-recommendations-${today()}.csv`, exported.csv);
    },
  });
}

function withoutPaging(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([field, value]) => !PAGING_FIELDS.has(field) && value !== undefined));
}

function sendCsv(reply: FastifyReply, fileName: string, csv: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', attachmentDisposition(fileName))
    .header('cache-control', 'no-store')
    .send(csv);
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}
