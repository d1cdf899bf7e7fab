import { Command, CommanderError } from 'commander';
import type { Kysely } from 'kysely';
import { ConfigError, loadConfig } from '../config/env.ts';
import { openDatabase } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { createLogger } from '../lib/logger.ts';
import { loadVault, type Vault } from './vault.ts';

export interface RotationCounts {
  connectionCredentials: number;
  oauthStates: number;
  mailOutbox: number;
}

/**
 * Re-encrypts every sealed value under the vault's current key (the first of
 * SEATWISE_ENCRYPTION_KEY). Each row is rewritten only while it still carries the key id it was
 * read with, so a row updated concurrently is left to that writer.
 */
export async function rotateKeys(db: Kysely<DB>, vault: Vault): Promise<RotationCounts> {
  const counts: RotationCounts = { connectionCredentials: 0, oauthStates: 0, mailOutbox: 0 };
  const current = vault.currentKeyId;
  const reseal = (keyId: string, ciphertext: string): string => vault.seal(vault.open({ keyId, ciphertext })).ciphertext;

  const credentials = await db.selectFrom('connection_credentials').selectAll().where('key_id', '!=', current).execute();
  for (const row of credentials) {
    const result = await db
      .updateTable('connection_credentials')
      .set({
        key_id: current,
        access_token_ciphertext: reseal(row.key_id, row.access_token_ciphertext),
        refresh_token_ciphertext: row.refresh_token_ciphertext === null ? null : reseal(row.key_id, row.refresh_token_ciphertext),
      })
      .where('connection_id', '=', row.connection_id)
      .where('key_id', '=', row.key_id)
      .executeTakeFirst();
    counts.connectionCredentials += Number(result.numUpdatedRows);
  }

  const states = await db.selectFrom('oauth_states').selectAll().where('key_id', '!=', current).execute();
  for (const row of states) {
    const result = await db
      .updateTable('oauth_states')
      .set({
        key_id: current,
        code_verifier_ciphertext: reseal(row.key_id, row.code_verifier_ciphertext),
        nonce_ciphertext: reseal(row.key_id, row.nonce_ciphertext),
      })
      .where('state_hash', '=', row.state_hash)
      .where('key_id', '=', row.key_id)
      .executeTakeFirst();
    counts.oauthStates += Number(result.numUpdatedRows);
  }

  const mails = await db.selectFrom('mail_outbox').select(['id', 'key_id', 'body_ciphertext']).where('key_id', '!=', current).execute();
  for (const row of mails) {
    const result = await db
      .updateTable('mail_outbox')
      .set({ key_id: current, body_ciphertext: reseal(row.key_id, row.body_ciphertext) })
      .where('id', '=', row.id)
      .where('key_id', '=', row.key_id)
      .executeTakeFirst();
    counts.mailOutbox += Number(result.numUpdatedRows);
  }
  return counts;
}

/**
 * `seatwise rotate-keys`: after putting a new key first in SEATWISE_ENCRYPTION_KEY (older keys
 * after it, comma-separated), re-encrypts everything under the new key. Returns the exit code.
 */
export async function runRotateKeysCommand(argv: string[]): Promise<number> {
  const program = new Command('rotate-keys')
    .description('Re-encrypt stored tokens, API keys and sealed mail under the first key of SEATWISE_ENCRYPTION_KEY')
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (!config.encryptionKey) {
    process.stderr.write('SEATWISE_ENCRYPTION_KEY is not set: put the new key first and the old keys after it, comma-separated, then run rotate-keys again.\n');
    return 1;
  }

  const logger = createLogger(config.logLevel);
  const vault = loadVault({ encryptionKey: config.encryptionKey, dataDir: config.dataDir, logger });
  const database = config.databaseUrl
    ? await openDatabase({ kind: 'postgres', url: config.databaseUrl })
    : await openDatabase({ kind: 'pglite', dataDir: config.dataDir });
  try {
    const counts = await rotateKeys(database.db, vault);
    process.stdout.write(
      `Re-encrypted under key ${vault.currentKeyId}: ${counts.connectionCredentials} connection credentials, ${counts.oauthStates} OAuth states, ${counts.mailOutbox} mail messages.\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`Key rotation failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await database.close();
  }
}
