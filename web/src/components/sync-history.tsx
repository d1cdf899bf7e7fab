import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { RunStreamOutcome, SyncRunSummary } from '../api-types.ts';
import { formatCount, formatDuration, formatLocalTime, humanize, labelOf } from '../format.ts';
import { TableScroller, TextWithTimes, Time } from './common.tsx';

/**
 * Renders the finished sync runs, newest first. Each run's start time is a button that shows how
 * every stream of that run ended, and the outcome cell counts the streams that did not succeed.
 * The outcome comes right after the start time, so a phone shows both before the table scrolls.
 */
export function SyncHistory({ runs }: { runs: SyncRunSummary[] }): JSX.Element {
  // Keyed by run id, so a run stays open while the card polls during a sync.
  const [expandedRunIds, setExpandedRunIds] = useState<ReadonlySet<string>>(new Set());
  const toggle = (runId: string): void => {
    setExpandedRunIds((current) => {
      const next = new Set(current);
      if (next.has(runId)) next.delete(runId);
      else next.add(runId);
      return next;
    });
  };

  return (
    <section class="sync-history" aria-labelledby="sync-history-heading">
      <h3 id="sync-history-heading">Recent syncs</h3>
      {runs.length === 0 ? (
        <p class="hint">No sync has run yet.</p>
      ) : (
        <>
          <p class="hint">Select a start time to see how each stream of that sync ended.</p>
          <TableScroller label="Recent syncs, scrollable">
            <table aria-labelledby="sync-history-heading" class="sync-history-table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Trigger</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => (
                  <RunRows key={run.id} run={run} isExpanded={expandedRunIds.has(run.id)} onToggle={() => toggle(run.id)} />
                ))}
              </tbody>
            </table>
          </TableScroller>
        </>
      )}
    </section>
  );
}

const HISTORY_COLUMN_COUNT = 5;

function RunRows({ run, isExpanded, onToggle }: { run: SyncRunSummary; isExpanded: boolean; onToggle: () => void }): JSX.Element {
  const streamsId = `run-streams-${run.id}`;
  const runName = runNameOf(run);
  const problems = streamProblemSummary(run.streams);

  return (
    <>
      <tr>
        <td>
          <button
            type="button"
            class="run-toggle"
            aria-expanded={isExpanded ? 'true' : 'false'}
            aria-controls={isExpanded ? streamsId : undefined}
            aria-label={`Streams of ${runName}`}
            onClick={onToggle}
          >
            {run.startedAt === null ? 'Not started' : <Time iso={run.startedAt} />}
          </button>
        </td>
        <td>
          {humanize(run.status)}
          {run.errorMessage !== null && <span class="run-error">{run.errorMessage}</span>}
          {problems !== null && <span class="run-stream-problems">{problems}</span>}
        </td>
        <td>{formatDuration(run.startedAt, run.finishedAt) ?? '–'}</td>
        <td>{humanize(run.kind)}</td>
        <td>{humanize(run.trigger)}</td>
      </tr>
      {isExpanded && (
        <tr class="run-streams-row" id={streamsId}>
          <td colSpan={HISTORY_COLUMN_COUNT}>
            <RunStreams streams={run.streams} runName={runName} />
          </td>
        </tr>
      )}
    </>
  );
}

function RunStreams({ streams, runName }: { streams: RunStreamOutcome[]; runName: string }): JSX.Element {
  if (streams.length === 0) return <p class="run-streams hint">No stream started in this sync.</p>;
  return (
    <div class="run-streams">
      <table class="stacked-table stream-outcome-table" aria-label={`Streams of ${runName}`}>
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">Outcome</th>
            <th scope="col" class="numeric">
              Records
            </th>
            <th scope="col" class="numeric">
              Duration
            </th>
          </tr>
        </thead>
        <tbody>
          {streams.map((stream) => (
            <tr key={stream.stream} class={`stream-outcome-${stream.status}`}>
              <th scope="row">{labelOf(stream.stream)}</th>
              <td data-label="Outcome">
                <StreamOutcome stream={stream} />
              </td>
              <td data-label="Records" class="numeric">
                {formatCount(stream.records)}
              </td>
              <td data-label="Duration" class="numeric">
                {formatDuration(stream.startedAt, stream.finishedAt) ?? '–'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Renders the stream's outcome in a word, with the reason, error or note below it. */
function StreamOutcome({ stream }: { stream: RunStreamOutcome }): JSX.Element {
  const outcome = outcomeOf(stream.status);
  return (
    <div>
      <span class="stream-outcome">{outcome.label}</span>
      {stream.message !== null && (
        <span class={outcome.isProblem ? 'stream-outcome-detail stream-outcome-problem' : 'stream-outcome-detail'}>
          <TextWithTimes text={stream.message} />
        </span>
      )}
    </div>
  );
}

function outcomeOf(status: string): { label: string; isProblem: boolean } {
  switch (status) {
    case 'succeeded':
      return { label: 'Succeeded', isProblem: false };
    // PagerDuty does not serve the stream to this account: the plan, the token's rights or scope.
    case 'unavailable':
      return { label: 'Unavailable', isProblem: true };
    case 'failed':
      return { label: 'Failed', isProblem: true };
    // A stream still pending or running in a finished run was cut off, e.g. by a stopped worker.
    case 'pending':
    case 'running':
      return { label: 'Not finished', isProblem: true };
    default:
      return { label: humanize(status), isProblem: false };
  }
}

/** Returns e.g. "2 streams unavailable, 1 failed", or null when every stream succeeded. */
export function streamProblemSummary(streams: RunStreamOutcome[]): string | null {
  const counts: [number, string][] = [
    [streams.filter((stream) => stream.status === 'unavailable').length, 'unavailable'],
    [streams.filter((stream) => stream.status === 'failed').length, 'failed'],
    [streams.filter((stream) => stream.status === 'pending' || stream.status === 'running').length, 'not finished'],
  ];
  const parts = counts
    .filter(([count]) => count > 0)
    .map(([count, outcome], index) => (index === 0 ? `${formatCount(count)} ${count === 1 ? 'stream' : 'streams'} ${outcome}` : `${formatCount(count)} ${outcome}`));
  return parts.length === 0 ? null : parts.join(', ');
}

function runNameOf(run: SyncRunSummary): string {
  const kind = humanize(run.kind).toLowerCase();
  return run.startedAt === null ? `the ${kind} sync, not started` : `the ${kind} sync started ${formatLocalTime(run.startedAt)}`;
}
