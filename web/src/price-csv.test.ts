import { describe, expect, it } from 'vitest';
import { parsePriceCsv } from './price-csv.ts';

const LICENSES = new Set(['Business (Full User)', 'Business (Stakeholder)']);

describe('parsePriceCsv', () => {
  it('reads quoted names and a header', () => {
    const parsed = parsePriceCsv('license,seats,price\r\n"Business (Full User)",120,41.00\r\nBusiness (Stakeholder),,10\r\n', LICENSES);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows).toEqual([
      { licenseName: 'Business (Full User)', roleGroup: null, seats: '120', price: '41.00' },
      { licenseName: 'Business (Stakeholder)', roleGroup: null, seats: '', price: '10' },
    ]);
  });

  it('rejects a decimal comma split into cells', () => {
    const parsed = parsePriceCsv('Business (Full User),12,41,50\n', LICENSES);
    expect(parsed.rows).toEqual([]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toMatch(/^Line 1: .*4 cells/);
  });

  it('allows empty trailing cells', () => {
    const parsed = parsePriceCsv('Business (Full User),12,41.50,,\n', LICENSES);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.map((row) => row.price)).toEqual(['41.50']);
  });

  it('rejects an unclosed quote', () => {
    const parsed = parsePriceCsv('"Business (Full User),12,41.50\n', LICENSES);
    expect(parsed.rows).toEqual([]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toMatch(/^Line 1: .*quote/);
  });
});
