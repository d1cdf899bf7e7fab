import type { JSX } from 'preact';
import type { ConnectionState } from '../api-types.ts';

const LABELS: Record<ConnectionState, string> = {
  not_connected: 'Not connected',
  connected: 'Connected',
  syncing: 'Syncing',
  needs_reconnect: 'Needs reconnect',
  error: 'Error',
};

/** Renders the connection state as a word, never as colour alone. */
export function ConnectionStateBadge({ state }: { state: ConnectionState }): JSX.Element {
  return <span class={`badge badge-${state.replace('_', '-')}`}>{LABELS[state]}</span>;
}

export function connectionStateLabel(state: ConnectionState): string {
  return LABELS[state];
}
