import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';

export function registerAdminRoutes(_app: FastifyInstance, _context: RouteContext): void {}
