import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { addExemption, getContract, listExemptions, parseContractCsv, removeExemption, saveContract, setUnusedDays } from './contracts.ts';

const CSV = `plan,currency,billing_period,renewal_date,notice_period_days,license,role_group,seats,price_per_seat
Business,usd,annual,2027-01-31,30,Business (Full User),FullUser,120,492.00
Business,usd,annual,2027-01-31,30,"Business (Stakeholder, with ""Status"")",Stakeholder,50,36.5
`;

describe('parseContractCsv', () => {
  it('reads one row per license', () => {
    const result = parseContractCsv(CSV);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ plan: 'Business', billingPeriod: 'annual', renewalDate: '2027-01-31', noticePeriodDays: '30' });
    expect(result.value.lines).toEqual([
      { licenseName: 'Business (Full User)', roleGroup: 'FullUser', seats: '120', pricePerSeat: '492.00' },
      { licenseName: 'Business (Stakeholder, with "Status")', roleGroup: 'Stakeholder', seats: '50', pricePerSeat: '36.5' },
    ]);
  });

  it('names a missing column', () => {
    const result = parseContractCsv('license,seats\nBusiness (Full User),3\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problems.map((problem) => problem.field)).toEqual(['header, billing_period', 'header, price_per_seat']);
  });

  it('rejects differing contract values', () => {
    const text = `billing_period,license,price_per_seat\nannual,A (Full User),10\nmonthly,B (Stakeholder),1\n`;
    const result = parseContractCsv(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problems).toEqual([expect.objectContaining({ field: 'line 3, billing_period' })]);
  });

  it('locates an invalid price', () => {
    const text = `billing_period,license,price_per_seat\nmonthly,A (Full User),41.999\nmonthly,B (Stakeholder),-3\n`;
    const result = parseContractCsv(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problems.map((problem) => problem.field)).toEqual(['line 2, price_per_seat', 'line 3, price_per_seat']);
    expect(result.error.problems[0]?.message).toContain('41.999');
  });

  it('rejects a duplicate license', () => {
    const text = `billing_period,license,price_per_seat\nmonthly,Full,1\nmonthly,full,2\n`;
    const result = parseContractCsv(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problems).toEqual([expect.objectContaining({ field: 'line 3, license' })]);
  });

  it('rejects an empty file', () => {
    const result = parseContractCsv('');
    expect(result.ok).toBe(false);
  });
});

describe.each(testDatabaseTargets())('contract storage on $name', ({ open }) => {
  let database: Database;
  let organizationId: string;

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    organizationId = (await database.db.insertInto('organizations').values({ name: 'Acme' }).returning('id').executeTakeFirstOrThrow()).id;
  });

  afterAll(async () => {
    await database.close();
  });

  it('saves an imported contract', async () => {
    const parsed = parseContractCsv(CSV);
    if (!parsed.ok) throw new Error('fixture CSV must parse');
    const saved = await saveContract(database.db, organizationId, parsed.value);
    expect(saved.ok).toBe(true);
    const contract = await getContract(database.db, organizationId);
    expect(contract).toEqual({
      provider: 'pagerduty',
      plan: 'Business',
      currency: 'USD',
      billingPeriod: 'annual',
      renewalDate: '2027-01-31',
      noticePeriodDays: 30,
      lines: [
        { licenseName: 'Business (Full User)', roleGroup: 'FullUser', seats: 120, pricePerSeatMinor: 49_200 },
        { licenseName: 'Business (Stakeholder, with "Status")', roleGroup: 'Stakeholder', seats: 50, pricePerSeatMinor: 3_650 },
      ],
      yearlyTotalMinor: 120 * 49_200 + 50 * 3_650,
    });
  });

  it('replaces the previous contract', async () => {
    const saved = await saveContract(database.db, organizationId, {
      billingPeriod: 'monthly',
      lines: [{ licenseName: 'Business (Full User)', pricePerSeat: 41, seats: 10 }],
    });
    expect(saved.ok).toBe(true);
    const contract = await getContract(database.db, organizationId);
    expect(contract?.lines).toEqual([{ licenseName: 'Business (Full User)', roleGroup: null, seats: 10, pricePerSeatMinor: 4_100 }]);
    expect(contract?.renewalDate).toBeNull();
    expect(contract?.yearlyTotalMinor).toBe(10 * 4_100 * 12);
  });

  it('returns field problems as values', async () => {
    const saved = await saveContract(database.db, organizationId, { billingPeriod: 'weekly', renewalDate: '31/01/2027', lines: [] });
    expect(saved.ok).toBe(false);
    if (saved.ok) return;
    expect(saved.error.problems.map((problem) => problem.field).sort()).toEqual(['billingPeriod', 'lines', 'renewalDate']);
  });

  it('rejects a far-off renewal date', async () => {
    for (const renewalDate of ['0001-01-01', '1999-12-31', '2100-01-01', '9999-12-31']) {
      const saved = await saveContract(database.db, organizationId, { billingPeriod: 'annual', renewalDate, lines: [{ licenseName: 'Business (Full User)', pricePerSeat: '41' }] });
      expect(saved.ok, `renewal date ${renewalDate} is rejected`).toBe(false);
      if (saved.ok) continue;
      expect(saved.error.problems.map((problem) => problem.field)).toEqual(['renewalDate']);
      expect(saved.error.problems[0]?.message).toMatch(/between 2000-01-01 and 2099-12-31/);
    }
    const saved = await saveContract(database.db, organizationId, { billingPeriod: 'annual', renewalDate: '2099-12-31', lines: [{ licenseName: 'Business (Full User)', pricePerSeat: '41' }] });
    expect(saved.ok).toBe(true);
  });

  it('reads thousands separators, not decimal commas', async () => {
    const grouped = await saveContract(database.db, organizationId, { billingPeriod: 'annual', lines: [{ licenseName: 'Business (Full User)', pricePerSeat: '1,234.50' }] });
    expect(grouped.ok).toBe(true);
    if (grouped.ok) expect(grouped.value.lines[0]?.pricePerSeatMinor).toBe(123_450);

    for (const price of ['41,50', '1,23', '12,34,567', ',5']) {
      const saved = await saveContract(database.db, organizationId, { billingPeriod: 'annual', lines: [{ licenseName: 'Business (Full User)', pricePerSeat: price }] });
      expect(saved.ok, `price ${price} is rejected`).toBe(false);
      if (saved.ok) continue;
      expect(saved.error.problems.map((problem) => problem.field)).toEqual(['lines.0.pricePerSeat']);
    }
  });

  it('stores the unused window', async () => {
    expect((await setUnusedDays(database.db, organizationId, 45)).ok).toBe(false);
    expect((await setUnusedDays(database.db, organizationId, 60)).ok).toBe(true);
    const row = await database.db.selectFrom('recommendation_settings').select('unused_days').where('organization_id', '=', organizationId).executeTakeFirstOrThrow();
    expect(row.unused_days).toBe(60);
  });

  it('keeps exemptions by lower-case email', async () => {
    expect((await addExemption(database.db, organizationId, ' Ada@Example.COM ', 'Founder')).ok).toBe(true);
    expect((await addExemption(database.db, organizationId, 'not an email', null)).ok).toBe(false);
    expect(await listExemptions(database.db, organizationId)).toEqual([{ email: 'ada@example.com', reason: 'Founder' }]);
    expect(await removeExemption(database.db, organizationId, 'ADA@example.com')).toBe(true);
    expect(await listExemptions(database.db, organizationId)).toEqual([]);
  });
});
