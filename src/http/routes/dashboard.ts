import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { presentOverview } from '../../dashboard/overview.ts';
import { peopleQuerySchema, presentPeople } from '../../dashboard/people.ts';
import { requireSession } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { overviewSchema, peopleSchema } from '../schemas.ts';

/** The dashboard pages; each reads through its presenter, scoped to the session's organization. */
export function registerDashboardRoutes(app: FastifyInstance, context: RouteContext): void {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/api/overview', {
    config: { access: 'viewer' },
    schema: { summary: 'Seats paid, allocated and active per license', response: { 200: overviewSchema } },
    handler: async (request) => presentOverview(db, requireSession(request).organization.id),
  });

  routes.get('/api/people', {
    config: { access: 'viewer' },
    schema: {
      summary: 'One page of people with their license and last activity',
      querystring: peopleQuerySchema,
      response: { 200: peopleSchema },
    },
    handler: async (request) => presentPeople(db, requireSession(request).organization.id, request.query),
  });
}
