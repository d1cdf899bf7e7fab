import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { presentOverview } from '../../dashboard/overview.ts';
import { featuresQuerySchema, presentFeatures } from '../../dashboard/features.ts';
import { peopleQuerySchema, presentPeople } from '../../dashboard/people.ts';
import { presentPerson } from '../../dashboard/person.ts';
import { presentRecommendations } from '../../dashboard/recommendations.ts';
import { requireSession } from '../access.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { featuresSchema, overviewSchema, peopleSchema, personSchema, recommendationsSchema } from '../schemas.ts';

/** Registers the dashboard pages. Each reads through its presenter, scoped to the session's organization. */
export function registerDashboardRoutes(app: FastifyInstance, context: RouteContext): void {
  const { db } = context.deps.database;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/api/overview', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Seats per license, costs, potential savings, weekly active people per feature, data freshness and confidence',
      response: { 200: overviewSchema },
    },
    handler: async (request) => presentOverview(db, requireSession(request).organization.id),
  });

  routes.get('/api/people', {
    config: { access: 'viewer' },
    schema: {
      summary: 'One page of people with their license and last activity, filtered by search, license, team, activity window and recommendation',
      querystring: peopleQuerySchema,
      response: { 200: peopleSchema },
    },
    handler: async (request) => presentPeople(db, requireSession(request).organization.id, request.query),
  });

  routes.get('/api/people/:externalId', {
    config: { access: 'viewer' },
    schema: {
      summary: 'One person: license, last activity and feature use',
      params: z.object({ externalId: z.string().min(1).max(200) }),
      response: { 200: personSchema },
    },
    handler: async (request) => {
      const person = await presentPerson(db, requireSession(request).organization.id, request.params.externalId);
      if (!person) throw new ApiError('not_found', `No person with the id ${request.params.externalId} is in the synced data; check the link.`);
      return person;
    },
  });

  routes.get('/api/features', {
    config: { access: 'viewer' },
    schema: {
      summary: 'Feature use per person and team, team by feature use in 30 days, account features and signal availability',
      querystring: featuresQuerySchema,
      response: { 200: featuresSchema },
    },
    handler: async (request) => presentFeatures(db, requireSession(request).organization.id, request.query),
  });

  routes.get('/api/recommendations', {
    config: { access: 'viewer' },
    schema: { summary: 'Seat recommendations with savings', response: { 200: recommendationsSchema } },
    handler: async (request) => presentRecommendations(db, requireSession(request).organization.id),
  });
}
