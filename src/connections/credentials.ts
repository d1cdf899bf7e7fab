import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Vault } from './vault.ts';

/** The secrets of one connection, in clear, as they only ever exist in memory. */
export interface Credentials {
  accessToken: string;
  refreshToken: string | null;
  /** Absolute expiry of the access token; null for API keys, which do not expire. */
  accessTokenExpiresAt: Date | null;
}

/** Seals and stores the credentials of a connection, replacing any stored before. */
export async function saveCredentials(db: Kysely<DB>, vault: Vault, connectionId: string, credentials: Credentials): Promise<void> {
  const access = vault.seal(credentials.accessToken);
  const refresh = credentials.refreshToken === null ? null : vault.seal(credentials.refreshToken);
  const row = {
    connection_id: connectionId,
    key_id: access.keyId,
    access_token_ciphertext: access.ciphertext,
    refresh_token_ciphertext: refresh?.ciphertext ?? null,
    access_token_expires_at: credentials.accessTokenExpiresAt,
    refreshed_at: new Date(),
    updated_at: new Date(),
  };
  await db
    .insertInto('connection_credentials')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('connection_id').doUpdateSet({
        key_id: row.key_id,
        access_token_ciphertext: row.access_token_ciphertext,
        refresh_token_ciphertext: row.refresh_token_ciphertext,
        access_token_expires_at: row.access_token_expires_at,
        refreshed_at: row.refreshed_at,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

/** Reads and opens the stored credentials of a connection, or returns null when none are stored. */
export async function readCredentials(db: Kysely<DB>, vault: Vault, connectionId: string): Promise<Credentials | null> {
  const row = await db.selectFrom('connection_credentials').selectAll().where('connection_id', '=', connectionId).executeTakeFirst();
  if (!row) return null;
  return {
    accessToken: vault.open({ keyId: row.key_id, ciphertext: row.access_token_ciphertext }),
    refreshToken:
      row.refresh_token_ciphertext === null ? null : vault.open({ keyId: row.key_id, ciphertext: row.refresh_token_ciphertext }),
    accessTokenExpiresAt: row.access_token_expires_at,
  };
}

/** Deletes the stored credentials of a connection, as on disconnect. */
export async function deleteCredentials(db: Kysely<DB>, connectionId: string): Promise<void> {
  await db.deleteFrom('connection_credentials').where('connection_id', '=', connectionId).execute();
}
