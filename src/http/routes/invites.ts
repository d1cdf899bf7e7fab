import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';

export async function registerInviteRoutes(_app: FastifyInstance, _context: RouteContext): Promise<void> {}
