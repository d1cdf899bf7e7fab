import { parse } from 'csv-parse/sync';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { BillingPeriod, DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { PAGERDUTY_PROVIDER } from './pagerduty-features.ts';
import { UNUSED_DAYS_CHOICES } from './recommendations.ts';

/**
 * Contracts per app (plan, billing period, renewal date, notice period, seats and price per license),
 * recommendation settings and the exempt list: their validation, CSV import and storage.
 */

const MAX_NOTICE_PERIOD_DAYS = 366;

/**
 * The largest amount in minor units that the `integer` columns holding a seat's price and a
 * recommendation's yearly saving can store, so one seat may cost at most 21,474,836.47 a year.
 */
const MAX_AMOUNT_MINOR = 2_147_483_647;

/**
 * A bound on the seats of one license. With it, one line's yearly total stays below 2.2e15 minor
 * units, which JavaScript numbers hold exactly.
 */
const MAX_SEATS = 1_000_000;

/**
 * A price in major units with a point for decimals and optional commas between groups of three
 * digits: `41`, `41.50`, `1,234.50`. A comma anywhere else, as in the decimal comma of `41,50`,
 * does not match, so it is rejected rather than read as 4150.
 */
const PRICE_PATTERN = /^(\d{1,9}|\d{1,3}(?:,\d{3}){1,2})(?:\.(\d{1,2}))?$/;

/** A price such as `41`, `41.5` or `41.50` in major units, turned into minor units without floating point. */
const priceSchema = z
  .union([z.number(), z.string().trim()])
  .transform((value, context) => {
    const text = typeof value === 'number' ? String(value) : value;
    const match = PRICE_PATTERN.exec(text);
    if (match === null) {
      context.addIssue({
        code: 'custom',
        message: `must be a non-negative amount with a point and at most two decimals, such as 41.00 or 1,234.50; got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    const whole = Number.parseInt((match[1] ?? '0').replaceAll(',', ''), 10);
    const fraction = Number.parseInt((match[2] ?? '').padEnd(2, '0'), 10);
    return whole * 100 + fraction;
  });

const isoDateSchema = z.iso.date({ message: 'must be a date as YYYY-MM-DD' });
/** Bounds of a renewal date: outside them a typing slip such as 0001 or 9999 would set the effective dates. */
const EARLIEST_RENEWAL_DATE = '2000-01-01';
const LATEST_RENEWAL_DATE = '2099-12-31';

export const contractLineSchema = z.object({
  licenseName: z.string().trim().min(1, 'must name the license, such as "Business (Full User)"').max(200),
  roleGroup: z.enum(['FullUser', 'Stakeholder']).nullable().default(null),
  seats: z.coerce.number().int().min(0, 'must be 0 or more').max(MAX_SEATS, `must be at most ${MAX_SEATS.toLocaleString('en-US')}`).nullable().default(null),
  /** Price of one seat per billing period, in major units; stored in minor units. */
  pricePerSeat: priceSchema,
});

export const contractInputSchema = z
  .object({
    plan: z.string().trim().max(200).nullable().default(null),
    currency: z
      .string()
      .trim()
      .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code such as USD')
      .transform((code) => code.toUpperCase())
      .default('USD'),
    billingPeriod: z.enum(['monthly', 'annual']),
    renewalDate: isoDateSchema
      // A value that is no date at all has its problem named by the format check alone.
      .refine((date) => !/^\d{4}-\d{2}-\d{2}$/.test(date) || (date >= EARLIEST_RENEWAL_DATE && date <= LATEST_RENEWAL_DATE), `must be between ${EARLIEST_RENEWAL_DATE} and ${LATEST_RENEWAL_DATE}`)
      .nullable()
      .default(null),
    noticePeriodDays: z.coerce.number().int().min(0).max(MAX_NOTICE_PERIOD_DAYS, `must be at most ${MAX_NOTICE_PERIOD_DAYS}`).default(0),
    lines: z.array(contractLineSchema).min(1, 'must list at least one license with its price'),
  })
  .superRefine((contract, context) => {
    const seen = new Set<string>();
    const periodsPerYear = PERIODS_PER_YEAR[contract.billingPeriod];
    contract.lines.forEach((line, index) => {
      const key = line.licenseName.toLowerCase();
      if (seen.has(key)) context.addIssue({ code: 'custom', path: ['lines', index, 'licenseName'], message: `lists "${line.licenseName}" twice` });
      seen.add(key);
      if (line.pricePerSeat * periodsPerYear > MAX_AMOUNT_MINOR) {
        context.addIssue({
          code: 'custom',
          path: ['lines', index, 'pricePerSeat'],
          message: `is too large: one seat may cost at most ${formatMinor(MAX_AMOUNT_MINOR)} a year, and ${formatMinor(line.pricePerSeat)} per ${contract.billingPeriod === 'monthly' ? 'month' : 'year'} is ${formatMinor(line.pricePerSeat * periodsPerYear)}`,
        });
      }
    });
  });

const PERIODS_PER_YEAR: Record<BillingPeriod, number> = { monthly: 12, annual: 1 };

function formatMinor(amountMinor: number): string {
  return (amountMinor / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export type ContractInput = z.input<typeof contractInputSchema>;

export interface ContractView {
  provider: string;
  plan: string | null;
  currency: string;
  billingPeriod: BillingPeriod;
  renewalDate: string | null;
  noticePeriodDays: number;
  lines: Array<{ licenseName: string; roleGroup: string | null; seats: number | null; pricePerSeatMinor: number }>;
  /** Seats times price over a year, in minor units; counts only lines with a seat count. */
  yearlyTotalMinor: number;
}

export interface FieldProblem {
  /** The field, as a dotted path (`lines.0.pricePerSeat`) or a CSV location (`line 3, price_per_seat`). */
  field: string;
  message: string;
}

export type ContractError = { code: 'invalid_contract'; problems: FieldProblem[] };

/** Validates and stores the contract of an organization for an app, replacing the previous one. */
export async function saveContract(db: Kysely<DB>, organizationId: string, input: unknown, provider = PAGERDUTY_PROVIDER): Promise<Result<ContractView, ContractError>> {
  const parsed = contractInputSchema.safeParse(input);
  if (!parsed.success) {
    return err({
      code: 'invalid_contract',
      problems: parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || '(contract)', message: issue.message })),
    });
  }
  const contract = parsed.data;

  await db.transaction().execute(async (trx) => {
    const saved = await trx
      .insertInto('contracts')
      .values({
        organization_id: organizationId,
        provider,
        plan: contract.plan,
        currency: contract.currency,
        billing_period: contract.billingPeriod,
        renewal_date: contract.renewalDate,
        notice_period_days: contract.noticePeriodDays,
      })
      .onConflict((oc) =>
        oc.columns(['organization_id', 'provider']).doUpdateSet({
          plan: contract.plan,
          currency: contract.currency,
          billing_period: contract.billingPeriod,
          renewal_date: contract.renewalDate,
          notice_period_days: contract.noticePeriodDays,
          updated_at: sql`now()`,
        }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();

    await trx.deleteFrom('contract_lines').where('contract_id', '=', saved.id).execute();
    await trx
      .insertInto('contract_lines')
      .values(
        contract.lines.map((line) => ({
          contract_id: saved.id,
          license_name: line.licenseName,
          role_group: line.roleGroup,
          seats: line.seats,
          price_per_seat_minor: line.pricePerSeat,
        })),
      )
      .execute();
  });

  const view = await getContract(db, organizationId, provider);
  if (view === null) throw new Error(`Contract of organization ${organizationId} vanished right after it was saved.`);
  return ok(view);
}

/** Returns the contract of an organization for an app, or null when none was entered. */
export async function getContract(db: Kysely<DB>, organizationId: string, provider = PAGERDUTY_PROVIDER): Promise<ContractView | null> {
  const contract = await db
    .selectFrom('contracts')
    .select(['id', 'plan', 'currency', 'billing_period', sql<string | null>`renewal_date::text`.as('renewal_date'), 'notice_period_days'])
    .where('organization_id', '=', organizationId)
    .where('provider', '=', provider)
    .executeTakeFirst();
  if (contract === undefined) return null;

  const lines = await db
    .selectFrom('contract_lines')
    .select(['license_name', 'role_group', 'seats', 'price_per_seat_minor'])
    .where('contract_id', '=', contract.id)
    .orderBy('license_name')
    .execute();
  const periodsPerYear = PERIODS_PER_YEAR[contract.billing_period];
  return {
    provider,
    plan: contract.plan,
    currency: contract.currency,
    billingPeriod: contract.billing_period,
    renewalDate: contract.renewal_date,
    noticePeriodDays: contract.notice_period_days,
    lines: lines.map((line) => ({ licenseName: line.license_name, roleGroup: line.role_group, seats: line.seats, pricePerSeatMinor: line.price_per_seat_minor })),
    yearlyTotalMinor: lines.reduce((sum, line) => sum + (line.seats ?? 0) * line.price_per_seat_minor * periodsPerYear, 0),
  };
}

export const CONTRACT_CSV_COLUMNS = ['plan', 'currency', 'billing_period', 'renewal_date', 'notice_period_days', 'license', 'role_group', 'seats', 'price_per_seat'] as const;
const CONTRACT_LEVEL_COLUMNS = ['plan', 'currency', 'billing_period', 'renewal_date', 'notice_period_days'] as const;

/**
 * Parses a contract from CSV: a header row with `CONTRACT_CSV_COLUMNS` (in any order; `plan`,
 * `role_group`, `seats`, `renewal_date` and `notice_period_days` may be empty), then one row per
 * license. The contract-level columns must be equal on every row.
 */
export function parseContractCsv(text: string): Result<ContractInput, ContractError> {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    return err({ code: 'invalid_contract', problems: [{ field: 'csv', message: `is not valid CSV: ${(error as Error).message}` }] });
  }
  if (records.length === 0) {
    return err({ code: 'invalid_contract', problems: [{ field: 'csv', message: `has no rows; expected a header with ${CONTRACT_CSV_COLUMNS.join(',')} and one row per license` }] });
  }

  const header = Object.keys(records[0] ?? {});
  const missing = ['billing_period', 'license', 'price_per_seat'].filter((column) => !header.includes(column));
  if (missing.length > 0) {
    return err({ code: 'invalid_contract', problems: missing.map((column) => ({ field: `header, ${column}`, message: 'is missing' })) });
  }

  const problems: FieldProblem[] = [];
  const first = records[0] ?? {};
  records.forEach((record, index) => {
    for (const column of CONTRACT_LEVEL_COLUMNS) {
      if ((record[column] ?? '') !== (first[column] ?? '')) {
        // Line 1 is the header, so data row `index` sits on line index + 2.
        problems.push({ field: `line ${index + 2}, ${column}`, message: `differs from line 2 ("${record[column] ?? ''}" versus "${first[column] ?? ''}"); one contract has one value` });
      }
    }
  });
  if (problems.length > 0) return err({ code: 'invalid_contract', problems });

  const emptyToNull = (value: string | undefined) => (value === undefined || value === '' ? null : value);
  const input = {
    plan: emptyToNull(first.plan),
    currency: emptyToNull(first.currency) ?? undefined,
    billingPeriod: (first.billing_period ?? '').toLowerCase(),
    renewalDate: emptyToNull(first.renewal_date),
    noticePeriodDays: emptyToNull(first.notice_period_days) ?? undefined,
    lines: records.map((record) => ({
      licenseName: record.license ?? '',
      roleGroup: emptyToNull(record.role_group),
      seats: emptyToNull(record.seats),
      pricePerSeat: record.price_per_seat ?? '',
    })),
  };
  const parsed = contractInputSchema.safeParse(input);
  if (!parsed.success) {
    return err({
      code: 'invalid_contract',
      problems: parsed.error.issues.map((issue) => ({ field: csvLocation(issue.path), message: issue.message })),
    });
  }
  return ok(input as ContractInput);
}

/** Names a contract field by its CSV line and column, so a user can find it in the file. */
function csvLocation(path: PropertyKey[]): string {
  const columns: Record<string, string> = {
    plan: 'plan',
    currency: 'currency',
    billingPeriod: 'billing_period',
    renewalDate: 'renewal_date',
    noticePeriodDays: 'notice_period_days',
    licenseName: 'license',
    roleGroup: 'role_group',
    seats: 'seats',
    pricePerSeat: 'price_per_seat',
  };
  if (path[0] === 'lines' && typeof path[1] === 'number') {
    const column = columns[String(path[2])] ?? String(path[2]);
    return `line ${path[1] + 2}, ${column}`;
  }
  return `line 2, ${columns[String(path[0])] ?? String(path[0])}`;
}

/** Sets the days without activity after which a seat counts as unused (30, 60 or 90). */
export async function setUnusedDays(db: Kysely<DB>, organizationId: string, days: number, provider = PAGERDUTY_PROVIDER): Promise<Result<number, ContractError>> {
  if (!UNUSED_DAYS_CHOICES.some((choice) => choice === days)) {
    return err({ code: 'invalid_contract', problems: [{ field: 'unusedDays', message: `must be one of ${UNUSED_DAYS_CHOICES.join(', ')}; got ${days}` }] });
  }
  await db
    .insertInto('recommendation_settings')
    .values({ organization_id: organizationId, provider, unused_days: days })
    .onConflict((oc) => oc.columns(['organization_id', 'provider']).doUpdateSet({ unused_days: days, updated_at: sql`now()` }))
    .execute();
  return ok(days);
}

const emailSchema = z.email({ message: 'must be an email address' });

/** Adds a person to the exempt list, so no recommendation changes their seat. */
export async function addExemption(
  db: Kysely<DB>,
  organizationId: string,
  email: string,
  reason: string | null,
  provider = PAGERDUTY_PROVIDER,
): Promise<Result<string, ContractError>> {
  const parsed = emailSchema.safeParse(email.trim());
  if (!parsed.success) return err({ code: 'invalid_contract', problems: [{ field: 'email', message: `must be an email address; got ${JSON.stringify(email)}` }] });
  const normalized = parsed.data.toLowerCase();
  await db
    .insertInto('recommendation_exemptions')
    .values({ organization_id: organizationId, provider, email: normalized, reason })
    .onConflict((oc) => oc.columns(['organization_id', 'provider', 'email']).doUpdateSet({ reason }))
    .execute();
  return ok(normalized);
}

export async function removeExemption(db: Kysely<DB>, organizationId: string, email: string, provider = PAGERDUTY_PROVIDER): Promise<boolean> {
  const result = await db
    .deleteFrom('recommendation_exemptions')
    .where('organization_id', '=', organizationId)
    .where('provider', '=', provider)
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listExemptions(db: Kysely<DB>, organizationId: string, provider = PAGERDUTY_PROVIDER): Promise<Array<{ email: string; reason: string | null }>> {
  return db
    .selectFrom('recommendation_exemptions')
    .select(['email', 'reason'])
    .where('organization_id', '=', organizationId)
    .where('provider', '=', provider)
    .orderBy('email')
    .execute();
}
