import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countVerdicts, extractNotes, figureHeading, formatBenchmarkTables, formatPage, formatRowLine, judgeTarget, parseRow, type BenchRow, type ScriptResult } from './lib/report.ts';
import { listScripts, runScript, runSuite, type SuiteOptions } from './lib/runner.ts';

const BENCH_DIR = import.meta.dirname;
const ROOT = join(BENCH_DIR, '..');
const fixtureDir = mkdtempSync(join(tmpdir(), 'seatwise-bench-fixture-'));

afterAll(() => rmSync(fixtureDir, { recursive: true, force: true }));

function crunchRow(crunchSeconds: number | null): BenchRow {
  return {
    benchmark: 'crunch',
    case: 'PGlite, 2,000,000 log entries',
    figures: { crunchSeconds, largestProcessMegabytes: 900 },
    targets: [
      { figure: 'crunchSeconds', atMost: 60 },
      { figure: 'largestProcessMegabytes', atMost: 1024 },
    ],
  };
}

function suiteOptions(overrides: Partial<SuiteOptions>): SuiteOptions {
  return { benchDir: fixtureDir, cwd: ROOT, scripts: [], scriptArgs: [], timeoutMs: 30_000, budgetMs: 60_000, ...overrides };
}

describe('benchmark rows', () => {
  it('round-trips figures and targets', () => {
    const line = formatRowLine('crunch', 'PGlite', { crunchSeconds: 12.5, status: 'succeeded', backend: null }, [{ figure: 'crunchSeconds', atMost: 60 }]);

    const row = parseRow(line);

    expect(row?.benchmark).toBe('crunch');
    expect(row?.case).toBe('PGlite');
    expect(row?.figures).toEqual({ crunchSeconds: 12.5, status: 'succeeded', backend: null });
    expect(row?.targets).toEqual([{ figure: 'crunchSeconds', atMost: 60 }]);
  });

  it('ignores lines without the prefix', () => {
    expect(parseRow('crunch took 12 s')).toBeNull();
  });

  it('rejects malformed targets and figures', () => {
    expect(() => parseRow('BENCH {"benchmark":"a","case":"b","targets":[{"figure":"x"}]}')).toThrow(/invalid targets/);
    expect(() => parseRow('BENCH {"benchmark":"a","case":"b","nested":{"x":1}}')).toThrow(/Figure "nested"/);
    expect(() => parseRow('BENCH {"case":"b"}')).toThrow(/"benchmark"/);
  });
});

describe('targets', () => {
  it('judges met, missed and not measured', () => {
    expect(judgeTarget(crunchRow(59.9), { figure: 'crunchSeconds', atMost: 60 })).toBe('met');
    expect(judgeTarget(crunchRow(60.1), { figure: 'crunchSeconds', atMost: 60 })).toBe('missed');
    expect(judgeTarget(crunchRow(null), { figure: 'crunchSeconds', atMost: 60 })).toBe('not measured');
  });

  it('counts verdicts over rows', () => {
    expect(countVerdicts([crunchRow(70), crunchRow(null)])).toEqual({ met: 2, missed: 1, 'not measured': 1 });
  });
});

describe('tables', () => {
  it('names columns with units', () => {
    expect(figureHeading('crunchSeconds')).toBe('crunch (s)');
    expect(figureHeading('overviewP95Ms')).toBe('overview p95 (ms)');
    expect(figureHeading('maxRssMegabytes')).toBe('max RSS (MB)');
    expect(figureHeading('rateLimitSharePercent')).toBe('rate limit share (%)');
    expect(figureHeading('recordsPerSecond')).toBe('records (/s)');
    expect(figureHeading('requests')).toBe('requests');
  });

  it('writes one table per benchmark with target verdicts', () => {
    const rows: BenchRow[] = [
      crunchRow(75.25),
      { benchmark: 'startup', case: 'npm start | empty', figures: { medianSeconds: 6.5 }, targets: [] },
    ];

    const tables = formatBenchmarkTables(rows);

    expect(tables).toContain('#### crunch');
    expect(tables).toContain('| case | crunch (s) | largest process (MB) | targets |');
    expect(tables).toContain('| PGlite, 2,000,000 log entries | 75.25 | 900 | crunch (s) ≤ 60: missed (75.25); largest process (MB) ≤ 1,024: met (900) |');
    expect(tables).toContain('#### startup');
    expect(tables).toContain('| npm start \\| empty | 6.5 |');
  });
});

describe('page', () => {
  it('states the run, the load of each script and the results', () => {
    const result: ScriptResult = {
      script: 'crunch-run.ts',
      status: 'passed',
      wallSeconds: 81.26,
      maxRssMegabytes: 950,
      loadAtStart: 1.5,
      loadAtEnd: 2.25,
      rows: [crunchRow(40)],
      output: ['generated in 3 s'],
    };

    const page = formatPage(
      { command: 'npm run bench -- --quick', date: '2026-12-05T00:00:00.000Z', commit: 'abc123', machine: '2 CPUs (nproc), Test CPU', loadAtStart: 0.5, loadAtEnd: 3 },
      [result],
    );

    expect(page).toContain('- Command: `npm run bench -- --quick`');
    expect(page).toContain('- Date: 2026-12-05T00:00:00.000Z');
    expect(page).toContain('- Commit: abc123');
    expect(page).toContain('- Machine: 2 CPUs (nproc), Test CPU');
    expect(page).toContain('0.50 at the start, 3.00 at the end');
    expect(page).toContain('- Targets: 2 met, 0 missed, 0 not measured.');
    expect(page).toContain('| crunch-run.ts | passed | 81.3 | 950 | 1.50 | 2.25 |');
    expect(page).toContain('crunch (s) ≤ 60: met (40)');
    expect(page).toContain('generated in 3 s');
  });
});

describe('notes', () => {
  const earlier = '# Benchmarks\n\n## Results\n\nold figures\n\n## Notes\n\n### Crunch runs\n\n| a |\n|---|\n';

  it('extracts the hand-written section', () => {
    expect(extractNotes(earlier)).toBe('## Notes\n\n### Crunch runs\n\n| a |\n|---|');
    expect(extractNotes('# Benchmarks\n\nno notes here')).toBeNull();
  });

  it('keeps notes at the end of a new page', () => {
    const run = { command: 'npm run bench', date: 'now', commit: 'abc', machine: 'm', loadAtStart: 0, loadAtEnd: 0 };

    const page = formatPage(run, [], extractNotes(earlier));

    expect(page.trimEnd().endsWith('### Crunch runs\n\n| a |\n|---|')).toBe(true);
    expect(page).not.toContain('old figures');
  });
});

describe('runner', () => {
  it('lists scripts without the runner, tests and helpers', () => {
    const scripts = listScripts(BENCH_DIR);

    expect(scripts).toContain('crunch-run.ts');
    expect(scripts).not.toContain('run.ts');
    expect(scripts).not.toContain('run.test.ts');
    expect(scripts.some((script) => script.includes('/'))).toBe(false);
  });

  it('collects rows, output, memory and load of a script', async () => {
    writeFileSync(join(fixtureDir, 'fixture-pass.ts'), `console.log('BENCH ' + JSON.stringify({ benchmark: 'fixture', case: process.argv[2] ?? 'none', valueMs: 5, targets: [] }));\nconsole.log('plain line');\n`);

    const result = await runScript(suiteOptions({ scriptArgs: ['--quick'] }), 'fixture-pass.ts', 30_000);

    expect(result.status).toBe('passed');
    expect(result.rows).toEqual([{ benchmark: 'fixture', case: '--quick', figures: { valueMs: 5 }, targets: [] }]);
    expect(result.output).toEqual(['plain line']);
    expect(result.wallSeconds).toBeGreaterThan(0);
    expect(result.loadAtStart).toBeGreaterThanOrEqual(0);
    expect(result.loadAtEnd).toBeGreaterThanOrEqual(0);
  });

  it('fails a script that prints a malformed row', async () => {
    writeFileSync(join(fixtureDir, 'fixture-bad-row.ts'), `console.log('BENCH {not json');\n`);

    const result = await runScript(suiteOptions({}), 'fixture-bad-row.ts', 30_000);

    expect(result.status).toBe('failed');
    expect(result.output[0]).toMatch(/^invalid row: /);
  });

  it('stops a script at its time limit', async () => {
    writeFileSync(join(fixtureDir, 'fixture-hang.ts'), `setInterval(() => {}, 1000);\n`);

    const result = await runScript(suiteOptions({}), 'fixture-hang.ts', 1_500);

    expect(result.status).toBe('timed out');
    expect(result.output.at(-1)).toMatch(/^timed out after 2 s/);
  });

  it('skips scripts once the budget is spent', async () => {
    writeFileSync(join(fixtureDir, 'fixture-hang.ts'), `setInterval(() => {}, 1000);\n`);

    const results = await runSuite(suiteOptions({ scripts: ['fixture-hang.ts', 'fixture-pass.ts'], budgetMs: 1_000 }));

    expect(results.map((result) => result.status)).toEqual(['timed out', 'not run (budget spent)']);
  });

  it('runs a real script in quick mode', async () => {
    const [result] = await runSuite(suiteOptions({ benchDir: BENCH_DIR, scripts: ['simulator-generate.ts'], scriptArgs: ['--quick'] }));

    expect(result?.status).toBe('passed');
    expect(result?.rows[0]?.benchmark).toBe('simulator');
    expect(result?.rows[0]?.figures.logEntriesRead).toBeGreaterThan(0);
  });
});
