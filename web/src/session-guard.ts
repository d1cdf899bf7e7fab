import { useEffect } from 'preact/hooks';
import type { LoadState } from './components/common.tsx';

/** Sends the viewer to sign in when an API call reports that the session has ended. */
export function useSessionGuard(state: LoadState<unknown>, onSessionExpired: () => void): void {
  const isExpired = state.status === 'failed' && state.failure.status === 401;
  useEffect(() => {
    if (isExpired) onSessionExpired();
  }, [isExpired, onSessionExpired]);
}
