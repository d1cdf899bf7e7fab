import type { JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { requestEmpty, requestJson, type ApiFailure } from './api.ts';
import { sessionSchema, setupStatusSchema, type SessionView } from './api-types.ts';
import { ErrorMessage, Loading } from './components/common.tsx';
import { Layout } from './components/layout.tsx';
import { CatalogPage } from './pages/catalog.tsx';
import { FeaturesPage } from './pages/features.tsx';
import { NotFoundPage } from './pages/not-found.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PagerDutyAppPage } from './pages/pagerduty-app.tsx';
import { PeoplePage } from './pages/people.tsx';
import { PersonPage } from './pages/person.tsx';
import { RecommendationsPage } from './pages/recommendations.tsx';
import { ResetPasswordPage } from './pages/reset-password.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SetupPage } from './pages/setup.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { navigate, useLocation, type Location } from './router.tsx';

type Phase =
  | { kind: 'loading' }
  | { kind: 'setup_required' }
  | { kind: 'signed_out' }
  | { kind: 'signed_in'; session: SessionView }
  | { kind: 'failed'; failure: ApiFailure };

const PUBLIC_PATHS = new Set(['/setup', '/sign-in']);
/** Opened from a password-reset mail, so it shows whether or not the browser is signed in. */
const RESET_PASSWORD_PATH = '/reset-password';
const HOME_PATH = '/catalog';

/** Finds out whether setup or a sign-in is needed, then routes to the page for the URL. */
export function App(): JSX.Element {
  const location = useLocation();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  const loadSession = useCallback(async (): Promise<void> => {
    setPhase(await resolvePhase());
  }, []);

  useEffect(() => {
    void loadSession();
  }, [loadSession]);

  const redirect = redirectFor(phase, location);
  useEffect(() => {
    if (redirect !== null) navigate(redirect, { replace: true });
  }, [redirect]);

  useFocusOnNavigation(location.path);

  const signOut = useCallback(async (): Promise<void> => {
    if (phase.kind !== 'signed_in') return;
    const result = await requestEmpty('/api/session', { method: 'DELETE', csrfToken: phase.session.csrfToken });
    if (!result.ok && result.error.status !== 401) {
      setPhase({ kind: 'failed', failure: result.error });
      return;
    }
    setPhase({ kind: 'signed_out' });
    navigate('/sign-in', { replace: true });
  }, [phase]);

  const onSignedIn = useCallback((session: SessionView, next: string) => {
    setPhase({ kind: 'signed_in', session });
    navigate(next, { replace: true });
  }, []);

  const onSessionExpired = useCallback(() => {
    setPhase({ kind: 'signed_out' });
  }, []);

  if (phase.kind === 'loading' || redirect !== null) {
    return (
      <Layout session={null} path={location.path}>
        <Loading label="Loading Seatwise…" />
      </Layout>
    );
  }

  if (phase.kind === 'failed') {
    return (
      <Layout session={null} path={location.path}>
        <h1>Seatwise is not available</h1>
        <ErrorMessage failure={phase.failure} />
        <button type="button" onClick={() => void loadSession()}>
          Try again
        </button>
      </Layout>
    );
  }

  if (phase.kind === 'setup_required') {
    return (
      <Layout session={null} path={location.path}>
        <SetupPage onSignedIn={onSignedIn} />
      </Layout>
    );
  }

  if (location.path === RESET_PASSWORD_PATH) {
    const session = phase.kind === 'signed_in' ? phase.session : null;
    return (
      <Layout session={session} path={location.path} onSignOut={session === null ? undefined : () => void signOut()}>
        <ResetPasswordPage token={location.query.get('token')} />
      </Layout>
    );
  }

  if (phase.kind === 'signed_out') {
    return (
      <Layout session={null} path={location.path}>
        <SignInPage next={safeNextPath(location.query.get('next'))} onSignedIn={onSignedIn} />
      </Layout>
    );
  }

  const session = phase.session;
  return (
    <Layout session={session} path={location.path} onSignOut={() => void signOut()}>
      <SignedInPage session={session} location={location} onSessionExpired={onSessionExpired} />
    </Layout>
  );
}

export interface PageProps {
  session: SessionView;
  location: Location;
  onSessionExpired: () => void;
}

function SignedInPage(props: PageProps): JSX.Element {
  switch (props.location.path) {
    case '/catalog':
      return <CatalogPage {...props} />;
    case '/apps/pagerduty':
      return <PagerDutyAppPage {...props} />;
    case '/overview':
      return <OverviewPage {...props} />;
    case '/people':
      return <PeoplePage {...props} />;
    case '/features':
      return <FeaturesPage {...props} />;
    case '/recommendations':
      return <RecommendationsPage {...props} />;
    case '/settings':
      return <SettingsPage {...props} />;
    default:
      if (/^\/people\/[^/]+$/.test(props.location.path)) return <PersonPage {...props} />;
      return <NotFoundPage path={props.location.path} />;
  }
}

async function resolvePhase(): Promise<Phase> {
  const setup = await requestJson('/api/setup', setupStatusSchema);
  if (!setup.ok) return { kind: 'failed', failure: setup.error };
  if (setup.value.isSetupRequired) return { kind: 'setup_required' };

  const session = await requestJson('/api/session', sessionSchema);
  if (session.ok) return { kind: 'signed_in', session: session.value };
  if (session.error.status === 401) return { kind: 'signed_out' };
  return { kind: 'failed', failure: session.error };
}

/** Returns the path to redirect to before a page shows, or null when the page may render. */
function redirectFor(phase: Phase, location: Location): string | null {
  switch (phase.kind) {
    // Nothing is known yet, or the failure page shows whatever the URL.
    case 'loading':
    case 'failed':
      return null;
    // Until an organization exists, setup is the only page.
    case 'setup_required':
      return location.path === '/setup' ? null : '/setup';
    // Without a session, sign in and come back to the requested page afterwards.
    case 'signed_out': {
      if (location.path === '/sign-in' || location.path === RESET_PASSWORD_PATH) return null;
      const requested = `${location.path}${location.query.size > 0 ? `?${location.query.toString()}` : ''}`;
      return PUBLIC_PATHS.has(location.path) || location.path === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(requested)}`;
    }
    // Signed in: the public pages and the root lead to the catalog.
    case 'signed_in':
      return PUBLIC_PATHS.has(location.path) || location.path === '/' ? HOME_PATH : null;
    default: {
      const unreachable: never = phase;
      throw new Error(`Unhandled phase ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Accepts only same-origin paths for `?next=`, so a crafted link cannot send people elsewhere. */
function safeNextPath(next: string | null): string {
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return HOME_PATH;
  return next;
}

/** Moves focus to the main landmark after client-side navigation, as a page load would. */
function useFocusOnNavigation(path: string): void {
  const [previousPath, setPreviousPath] = useState(path);
  useEffect(() => {
    if (path === previousPath) return;
    setPreviousPath(path);
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path, previousPath]);
}
