import type { Kysely } from 'kysely';
import nodemailer from 'nodemailer';
import type { Vault } from '../connections/vault.ts';
import type { DB } from '../db/schema.ts';
import type { Logger } from '../lib/logger.ts';

export interface MailMessage {
  organizationId: string | null;
  to: string;
  subject: string;
  text: string;
}

/** Outgoing mail: SMTP in production, the outbox in the database in the embedded default. */
export interface Mailer {
  readonly transport: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<void>;
}

export interface MailerOptions {
  db: Kysely<DB>;
  vault: Vault;
  logger: Logger;
  /** An SMTP URL such as smtps://user:password@mail.example.com; unset keeps mail in the outbox. */
  smtpUrl?: string | undefined;
  from: string;
}

/**
 * Creates the mailer. Every message is recorded in `mail_outbox` with its body sealed by the
 * vault, because bodies carry single-use links. With SMTP the message is also sent, and the
 * outcome is recorded beside it.
 */
export function createMailer(options: MailerOptions): Mailer {
  const smtp = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : null;
  const transport = smtp ? 'smtp' : 'outbox';

  return {
    transport,
    async send(message) {
      const sealed = options.vault.seal(message.text);
      const row = await options.db
        .insertInto('mail_outbox')
        .values({
          organization_id: message.organizationId,
          to_address: message.to,
          subject: message.subject,
          body_ciphertext: sealed.ciphertext,
          key_id: sealed.keyId,
          transport,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (!smtp) return;

      try {
        await smtp.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text });
        await options.db.updateTable('mail_outbox').set({ sent_at: new Date() }).where('id', '=', row.id).execute();
      } catch (error) {
        options.logger.error({ error: (error as Error).message, mailId: row.id }, 'Failed to send mail over SMTP; check SEATWISE_SMTP_URL');
        await options.db
          .updateTable('mail_outbox')
          .set({ error_message: (error as Error).message })
          .where('id', '=', row.id)
          .execute();
      }
    },
  };
}

export interface OutboxMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  transport: 'smtp' | 'outbox';
  sentAt: string | null;
  errorMessage: string | null;
  createdAt: string;
}

/** Lists the newest messages of one organization, bodies opened, for the outbox page. */
export async function listOutbox(db: Kysely<DB>, vault: Vault, organizationId: string, limit: number): Promise<OutboxMessage[]> {
  const rows = await db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    to: row.to_address,
    subject: row.subject,
    text: vault.open({ keyId: row.key_id, ciphertext: row.body_ciphertext }),
    transport: row.transport,
    sentAt: row.sent_at?.toISOString() ?? null,
    errorMessage: row.error_message,
    createdAt: row.created_at.toISOString(),
  }));
}
