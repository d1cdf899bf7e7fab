import type { Kysely } from 'kysely';
import type { Config } from '../config/env.ts';
import type { DB } from '../db/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { isSetupRequired, setUpFirstOrganization } from './setup.ts';

/**
 * Creates the organization and owner from SEATWISE_ADMIN_EMAIL and SEATWISE_ADMIN_PASSWORD
 * when the database has no organization yet, so a server can start without the setup form.
 */
export async function ensureBootstrapOwner(db: Kysely<DB>, config: Config, logger?: Logger): Promise<void> {
  if (!config.bootstrapAdmin || !(await isSetupRequired(db))) return;
  const result = await setUpFirstOrganization(db, {
    organizationName: config.organizationName,
    name: nameFromEmail(config.bootstrapAdmin.email),
    email: config.bootstrapAdmin.email,
    password: config.bootstrapAdmin.password,
  });
  if (result.ok) {
    logger?.info({ userId: result.value.user.id, organizationId: result.value.organization.id }, 'Created the first organization and its owner');
  }
}

function nameFromEmail(email: string): string {
  return email.split('@')[0] ?? email;
}
