/**
 * Tables and the markdown page of a benchmark run. Scripts print one `BENCH {json}` line per case
 * (see `BenchRow`). The runner parses them, checks each target against the figure it names and
 * writes the result into docs/benchmarks.md. Nothing in this file measures.
 */

export const ROW_PREFIX = 'BENCH ';

/** A figure's limit: the case meets it when the figure is at most `atMost`. */
export interface Target {
  /** Key of the figure in the same row. */
  figure: string;
  atMost: number;
}

/** One case of one benchmark, as a script prints it after `BENCH `. */
export interface BenchRow {
  benchmark: string;
  case: string;
  figures: Record<string, number | string | null>;
  targets: Target[];
}

export type TargetVerdict = 'met' | 'missed' | 'not measured';

export type ScriptStatus = 'passed' | 'failed' | 'timed out' | 'not run (budget spent)';

export interface ScriptResult {
  script: string;
  status: ScriptStatus;
  wallSeconds: number | null;
  /** Maximum resident set size of the largest process the script started, from GNU time. */
  maxRssMegabytes: number | null;
  loadAtStart: number | null;
  loadAtEnd: number | null;
  rows: BenchRow[];
  /** Every other line the script printed, verbatim. */
  output: string[];
}

export interface RunDescription {
  command: string;
  date: string;
  commit: string;
  machine: string;
  loadAtStart: number;
  loadAtEnd: number;
}

/**
 * Parses one output line into a row, or returns null for a line that is not a row. A line that
 * starts with the prefix but is malformed raises, because a silently dropped figure would hide a
 * broken script.
 */
export function parseRow(line: string): BenchRow | null {
  if (!line.startsWith(ROW_PREFIX)) return null;
  const parsed = JSON.parse(line.slice(ROW_PREFIX.length)) as Record<string, unknown>;
  const { benchmark, case: caseName, targets = [], ...figures } = parsed;
  if (typeof benchmark !== 'string' || typeof caseName !== 'string') {
    throw new Error(`Benchmark row without a string "benchmark" and "case": ${line}`);
  }
  if (!Array.isArray(targets) || !targets.every(isTarget)) {
    throw new Error(`Benchmark row "${benchmark}, ${caseName}" has invalid targets. Expected [{"figure": key, "atMost": number}], got: ${line}`);
  }
  for (const [key, value] of Object.entries(figures)) {
    if (value !== null && typeof value !== 'number' && typeof value !== 'string') {
      throw new Error(`Figure "${key}" of "${benchmark}, ${caseName}" must be a number, a string or null, got ${JSON.stringify(value)}`);
    }
  }
  return { benchmark, case: caseName, figures: figures as BenchRow['figures'], targets };
}

/** Formats a row the way `parseRow` reads it; scripts print the result. */
export function formatRowLine(benchmark: string, caseName: string, figures: BenchRow['figures'], targets: Target[] = []): string {
  return `${ROW_PREFIX}${JSON.stringify({ benchmark, case: caseName, ...figures, targets })}`;
}

function isTarget(value: unknown): value is Target {
  if (value === null || typeof value !== 'object') return false;
  const { figure, atMost } = value as Record<string, unknown>;
  return typeof figure === 'string' && typeof atMost === 'number' && Number.isFinite(atMost);
}

export function judgeTarget(row: BenchRow, target: Target): TargetVerdict {
  const value = row.figures[target.figure];
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'not measured';
  return value <= target.atMost ? 'met' : 'missed';
}

/**
 * Turns a camelCase figure key into a column heading with its unit, so `crunchSeconds` reads
 * "crunch (s)" and `overviewP95Ms` reads "overview p95 (ms)".
 */
export function figureHeading(key: string): string {
  const units: Array<[string, string]> = [
    ['Seconds', 's'],
    ['Ms', 'ms'],
    ['Megabytes', 'MB'],
    ['Percent', '%'],
    ['PerSecond', '/s'],
    ['PerMinute', '/min'],
  ];
  for (const [suffix, unit] of units) {
    if (key.endsWith(suffix) && key.length > suffix.length) return `${splitWords(key.slice(0, -suffix.length))} (${unit})`;
  }
  return splitWords(key);
}

/** Acronyms that keep their capitals in headings. */
const ACRONYMS = new Set(['api', 'rss']);

function splitWords(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(' ')
    .map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word))
    .join(' ');
}

function formatValue(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return escapeCell(value);
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function formatTarget(row: BenchRow, target: Target): string {
  const value = row.figures[target.figure];
  const heading = figureHeading(target.figure);
  return `${heading} ≤ ${formatValue(target.atMost)}: ${judgeTarget(row, target)} (${formatValue(value) || 'none'})`;
}

/** Formats one line per script: status, wall time, peak memory and the machine's load around it. */
export function formatScriptTable(results: ScriptResult[]): string {
  const lines = ['| script | status | wall time (s) | max RSS (MB) | load at start | load at end |', '|---|---|---|---|---|---|'];
  for (const result of results) {
    lines.push(
      `| ${result.script} | ${result.status} | ${formatValue(result.wallSeconds === null ? null : round(result.wallSeconds, 1))} | ${result.maxRssMegabytes ?? 'not measured'} | ${formatLoad(result.loadAtStart)} | ${formatLoad(result.loadAtEnd)} |`,
    );
  }
  return lines.join('\n');
}

function formatLoad(load: number | null): string {
  return load === null ? '' : load.toFixed(2);
}

/**
 * Formats one table per benchmark, in the order the rows came, with a column per figure. A last
 * column states each target, whether the row met it and the figure it was judged on.
 */
export function formatBenchmarkTables(rows: BenchRow[]): string {
  const benchmarks = [...new Set(rows.map((row) => row.benchmark))];
  return benchmarks
    .map((benchmark) => {
      const own = rows.filter((row) => row.benchmark === benchmark);
      const keys = [...new Set(own.flatMap((row) => Object.keys(row.figures)))];
      const hasTargets = own.some((row) => row.targets.length > 0);
      const headings = ['case', ...keys.map(figureHeading), ...(hasTargets ? ['targets'] : [])];
      const lines = [`#### ${benchmark}`, '', `| ${headings.join(' | ')} |`, `|${headings.map(() => '---').join('|')}|`];
      for (const row of own) {
        const cells = [escapeCell(row.case), ...keys.map((key) => formatValue(row.figures[key]))];
        if (hasTargets) cells.push(row.targets.map((target) => formatTarget(row, target)).join('; '));
        lines.push(`| ${cells.join(' | ')} |`);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}

/** Counts the verdicts of every target in the rows. */
export function countVerdicts(rows: BenchRow[]): Record<TargetVerdict, number> {
  const counts: Record<TargetVerdict, number> = { met: 0, missed: 0, 'not measured': 0 };
  for (const row of rows) for (const target of row.targets) counts[judgeTarget(row, target)] += 1;
  return counts;
}

/** Heading of the page's hand-written section, which every run keeps verbatim at the end. */
export const NOTES_HEADING = '## Notes';

/** Returns the hand-written section of an earlier page, from its heading to the end, or null. */
export function extractNotes(page: string): string | null {
  const lines = page.split('\n');
  const start = lines.indexOf(NOTES_HEADING);
  return start === -1 ? null : lines.slice(start).join('\n').trimEnd();
}

export function formatPage(run: RunDescription, results: ScriptResult[], notes: string | null = null): string {
  const rows = results.flatMap((result) => result.rows);
  const verdicts = countVerdicts(rows);
  const sections = results.map((result) =>
    [`### bench/${result.script}`, '', `Status: ${result.status}.`, '', '```text', ...(result.output.length > 0 ? result.output : ['(no other output)']), '```'].join('\n'),
  );
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); rerun it to refresh this page. Every figure below was',
    'measured in the run described here, so figures from other machines or runs are not comparable.',
    '',
    '## Run',
    '',
    `- Command: \`${run.command}\``,
    `- Date: ${run.date}`,
    `- Commit: ${run.commit}`,
    `- Machine: ${run.machine}`,
    `- Load average over 1 minute: ${run.loadAtStart.toFixed(2)} at the start, ${run.loadAtEnd.toFixed(2)} at the end. A load above the CPU count means other processes competed for the CPUs.`,
    `- Targets: ${verdicts.met} met, ${verdicts.missed} missed, ${verdicts['not measured']} not measured.`,
    '',
    '## Scripts',
    '',
    'Wall time and max RSS come from GNU time for the whole script. Its max RSS is that of the largest',
    'process whose exit the script or its children waited for, so a process stopped with its process',
    'group may be missing from it, and each case reports its own peak below. The load columns give',
    'the 1-minute load average when the script started and when it ended.',
    '',
    formatScriptTable(results),
    '',
    '## Results',
    '',
    'Each script runs every case in its own process, so a case\'s max RSS belongs to that case alone.',
    'The header comment of each script says what its figures mean.',
    '',
    rows.length > 0 ? formatBenchmarkTables(rows) : '(no figures: no script printed a result)',
    '',
    '## Script output',
    '',
    ...sections.flatMap((section) => [section, '']),
    ...(notes === null ? [] : [notes, '']),
  ].join('\n');
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
