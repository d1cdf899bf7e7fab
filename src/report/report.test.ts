import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { crunchConnection, daysBefore } from '../analytics/crunch.ts';
import { saveContract } from '../analytics/contracts.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers } from '../analytics/testing.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { buildReport } from './build.ts';
import { runReportCommand } from './cli.ts';
import type { UtilizationReport } from './build.ts';
import { launchChromium, PHONE_VIEWPORT } from '../../test/support/browser.ts';

const AS_OF = new Date('2026-06-01T12:00:00Z');

interface Captured {
  exitCode: number;
  out: string;
  err: string;
}

async function runReport(argv: string[]): Promise<Captured> {
  const out = new PassThrough();
  const err = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => outChunks.push(chunk));
  err.on('data', (chunk: Buffer) => errChunks.push(chunk));
  const exitCode = await runReportCommand(argv, { out, err });
  return { exitCode, out: Buffer.concat(outChunks).toString('utf8'), err: Buffer.concat(errChunks).toString('utf8') };
}

describe('seatwise report', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seatwise-report-'));
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await migrate(database);
      const { db } = database;
      const tenant = await createTenant(db, 'Acme');
      await insertLicenses(db, tenant.connectionId, [
        { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 2, allocationsAvailable: 1 },
      ]);
      await insertUsers(db, tenant.connectionId, [
        { id: 'PACTIVE', name: 'Ada <script>', email: 'ada@acme.test', licenseId: 'LFULL' },
        { id: 'PIDLE', name: 'Idle, Ivan', email: 'ivan@acme.test', licenseId: 'LFULL' },
      ]);
      await insertLogEntries(db, tenant.connectionId, [
        { id: 'E1', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 2), agentId: 'PACTIVE', channelType: 'mobile' },
      ]);
      const saved = await saveContract(db, tenant.organizationId, {
        billingPeriod: 'monthly',
        lines: [{ licenseName: 'Business (Full User)', seats: 3, pricePerSeat: '41.00' }],
      });
      expect(saved.ok).toBe(true);
      await crunchConnection(db, tenant.connectionId, AS_OF);
    } finally {
      await database.close();
    }
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the JSON report', async () => {
    const result = await runReport(['--data-dir', dataDir]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.out) as UtilizationReport;
    expect(report.formatVersion).toBe(1);
    expect(report.account).toEqual({ subdomain: 'acme', region: 'us', lastSyncAt: '2026-06-01T00:00:00.000Z' });
    expect(report.dataConfidence.incident_action?.status).toBe('unavailable');
    expect(report.seats).toEqual([
      { license: 'Business (Full User)', licenseId: 'LFULL', roleGroup: 'FullUser', paid: 3, allocated: 2, active30d: 1, active60d: 1, active90d: 1, neverActive: 1 },
    ]);
    const ada = report.people.find((person) => person.email === 'ada@acme.test');
    expect(ada?.lastSeenSignal).toBe('incident_action');
    expect(ada?.features.incident_acknowledge).toEqual({
      firstUsedAt: daysBefore(AS_OF, 2).toISOString(),
      lastUsedAt: daysBefore(AS_OF, 2).toISOString(),
      count30d: 1,
      count60d: 1,
      count90d: 1,
    });
    expect(report.recommendations).toEqual([
      expect.objectContaining({ kind: 'reclaim_seat', email: 'ivan@acme.test', yearlySaving: 492, currency: 'USD', effectiveDate: '2026-07-01', guardrails: [] }),
    ]);
    expect(report.totalYearlySaving).toBe(492);
    expect(report.costs).toEqual({ currency: 'USD', yearlyTotal: 1476, perActiveUser30d: 1476, perActiveUser90d: 1476 });
  });

  it('prints one CSV row per person', async () => {
    const result = await runReport(['--data-dir', dataDir, '--format', 'csv']);
    expect(result.exitCode).toBe(0);
    const rows = parse(result.out, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((row) => row.email)).toEqual(['ada@acme.test', 'ivan@acme.test']);
    expect(rows[1]?.name).toBe('Idle, Ivan');
    expect(rows[1]?.recommendation).toBe('reclaim_seat');
    expect(rows[1]?.yearly_saving).toBe('492');
    expect(rows[0]?.incident_acknowledge_count_90d).toBe('1');
    expect(rows[0]?.deleted).toBe('false');
  });

  it('writes a self-contained HTML page', async () => {
    const file = join(dataDir, 'report.html');
    const result = await runReport(['--data-dir', dataDir, '--format', 'html', '--output', file]);
    expect(result.exitCode).toBe(0);
    expect(result.out).toBe('');
    expect(result.err).toContain(file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Seats by license');
    expect(html).not.toContain('<script');
    expect(html).toContain('Ada &#60;script&#62;');
    expect(html).toContain('<td>Manager</td>');
    expect(html).not.toMatch(/<td>(user|admin|limited_user|ready|flagged|blocked|reclaim seat|remove invitation)<\/td>/);
    const externalReferences = html.match(/(?:src|href)=["']https?:/g);
    expect(externalReferences).toBeNull();
  });

  it('html report fits a phone', async () => {
    const file = join(dataDir, 'report-phone.html');
    const result = await runReport(['--data-dir', dataDir, '--format', 'html', '--output', file]);
    expect(result.exitCode).toBe(0);

    const chromium = await launchChromium();
    try {
      const context = await chromium.browser.newContext({ viewport: PHONE_VIEWPORT, isMobile: true });
      const page = await context.newPage();
      await page.setContent(readFileSync(file, 'utf8'));
      const width = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(width.client).toBe(PHONE_VIEWPORT.width);
      expect(width.scroll).toBeLessThanOrEqual(width.client);
    } finally {
      await chromium.close();
    }
  });

  it('rejects an empty output path', async () => {
    const result = await runReport(['--data-dir', dataDir, '--output', '']);
    expect(result.exitCode).toBe(64);
    expect(result.err).toContain('--output');
  });

  it('rejects an unknown format', async () => {
    const result = await runReport(['--data-dir', dataDir, '--format', 'pdf']);
    expect(result.exitCode).toBe(64);
    expect(result.err).toContain('pdf');
  });

  it('fails without a synced account', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'seatwise-empty-'));
    try {
      const result = await runReport(['--data-dir', emptyDir]);
      expect(result.exitCode).toBe(1);
      expect(result.err).toContain('seatwise sync --api-key');
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('leaves a missing data folder alone', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'seatwise-missing-'));
    const missingDir = join(parent, 'typo');
    try {
      const result = await runReport(['--data-dir', missingDir]);
      expect(result.exitCode).toBe(1);
      expect(result.err).toContain(`No Seatwise database in ${missingDir}`);
      expect(result.err).toContain('seatwise sync --api-key');
      expect(existsSync(missingDir)).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('seatwise report CSV with hostile names', () => {
  const HOSTILE_NAMES = ['=HYPERLINK("http://evil.example","x")', '+SUM(1,2)', '-2+3', '@cmd', '\tTabbed'];
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seatwise-report-hostile-'));
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await migrate(database);
      const { db } = database;
      const tenant = await createTenant(db, 'Hostile');
      await insertUsers(
        db,
        tenant.connectionId,
        HOSTILE_NAMES.map((name, index) => ({ id: `PHOSTILE${index}`, name, email: `hostile${index}@acme.test` })),
      );
      await crunchConnection(db, tenant.connectionId, AS_OF);
    } finally {
      await database.close();
    }
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('csv formula cells are neutralised', async () => {
    const result = await runReport(['--data-dir', dataDir, '--format', 'csv']);
    expect(result.exitCode).toBe(0);
    const rows = parse(result.out, { columns: true }) as Array<Record<string, string>>;
    const names = rows.map((row) => row.name ?? '');
    expect(names).toHaveLength(HOSTILE_NAMES.length);
    for (const hostile of HOSTILE_NAMES) {
      expect(names, `${JSON.stringify(hostile)} is not left as a formula`).not.toContain(hostile);
      expect(names).toContain(`'${hostile}`);
    }
  });
});

describe('seatwise report with two organizations of one name', () => {
  let dataDir: string;
  const organizationIds: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seatwise-report-twins-'));
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await migrate(database);
      for (const email of ['first@twin.test', 'second@twin.test']) {
        const tenant = await createTenant(database.db, 'Twin');
        await insertUsers(database.db, tenant.connectionId, [{ id: 'PTWIN', name: 'Tess Twin', email }]);
        await crunchConnection(database.db, tenant.connectionId, AS_OF);
        organizationIds.push(tenant.organizationId);
      }
    } finally {
      await database.close();
    }
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks which organization a shared name means', async () => {
    const result = await runReport(['--data-dir', dataDir, '--organization', 'Twin']);
    expect(result.exitCode).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain('2 organizations are named "Twin"');
    for (const id of organizationIds) expect(result.err).toContain(id);
  });

  it('reports the organization of an id', async () => {
    const result = await runReport(['--data-dir', dataDir, '--organization', organizationIds[1] ?? '', '--format', 'json']);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.out) as { people: Array<{ email: string }> };
    expect(report.people.map((person) => person.email)).toEqual(['second@twin.test']);
  });
});

describe('seatwise report with an API key', () => {
  let simulator: RunningSimulator;
  let dataDir: string;

  beforeAll(async () => {
    simulator = await startSimulator({ seed: 3, people: 20, historyDays: 30, port: 0, euPort: 0 });
    dataDir = mkdtempSync(join(tmpdir(), 'seatwise-report-sync-'));
  });

  afterAll(async () => {
    await simulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('syncs before reporting', async () => {
    const result = await runReport(['--api-key', simulator.apiKey, '--api-url', simulator.apiUrl, '--data-dir', dataDir]);
    expect(result.err).not.toContain('failed');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.out) as UtilizationReport;
    expect(report.computedAt).not.toBeNull();
    const truth = simulator.groundTruth(new Date(report.computedAt ?? 0));
    expect(report.people).toHaveLength(truth.people.length);
    const seats = report.seats.map((seat) => ({ licenseId: seat.licenseId, allocated: seat.allocated, active30d: seat.active30d, active90d: seat.active90d }));
    const expectedSeats = truth.seats.map((seat) => ({ licenseId: seat.licenseId, allocated: seat.allocated, active30d: seat.active30d, active90d: seat.active90d }));
    expect(seats.sort((left, right) => left.licenseId.localeCompare(right.licenseId))).toEqual(
      expectedSeats.sort((left, right) => left.licenseId.localeCompare(right.licenseId)),
    );
  });

  it('marks signals stale two days on', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const organization = await database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
      const fresh = await buildReport(database.db, organization.id);
      const lastSyncAt = new Date(fresh.account?.lastSyncAt ?? 0);
      const available = Object.entries(fresh.dataConfidence).filter(([, state]) => state.status === 'available');
      expect(available.length).toBeGreaterThan(0);
      for (const [signal, state] of available) expect(state.reason, signal).toBeNull();

      const later = await buildReport(database.db, organization.id, new Date(lastSyncAt.getTime() + 49 * 3_600_000));
      for (const [signal] of available) {
        expect(later.dataConfidence[signal]?.status, signal).toBe('available');
        expect(later.dataConfidence[signal]?.reason, signal).toBe(`Stale: the last sync finished at ${lastSyncAt.toISOString()}.`);
      }
    } finally {
      await database.close();
    }
  });

  it('names the synced account without a contract', async () => {
    const file = join(dataDir, 'synced-report.html');
    const result = await runReport(['--data-dir', dataDir, '--format', 'html', '--output', file]);
    expect(result.exitCode).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain(`Account ${simulator.account.subdomain} (`);
    expect(html).not.toContain('unknown subdomain');
    expect(html).toContain('no guardrail blocks: unknown, because no contract prices are entered.');
    expect(html).not.toMatch(/no guardrail blocks: 0\.00/);
  });
});
