import type { ComponentChildren, JSX } from 'preact';
import type { SessionView } from '../api-types.ts';
import { Link } from '../router.tsx';
import { OrganizationMenu } from './organization-menu.tsx';

const NAVIGATION = [
  { href: '/catalog', label: 'Catalog' },
  { href: '/apps/pagerduty', label: 'PagerDuty' },
  { href: '/overview', label: 'Overview' },
  { href: '/people', label: 'People' },
  { href: '/features', label: 'Features' },
  { href: '/recommendations', label: 'Recommendations' },
] as const;

/** Roles that maintain the contract, exemptions and support email. */
const SETTINGS_ROLES = new Set(['owner', 'admin']);

interface LayoutProps {
  session: SessionView | null;
  path: string;
  onSignOut?: () => void;
  children: ComponentChildren;
}

/** The frame of every page: skip link, demo banner, header with navigation and sign-out, main. */
export function Layout({ session, path, onSignOut, children }: LayoutProps): JSX.Element {
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      {session?.isDemo === true && <DemoBanner simulatorUrl={session.simulatorUrl ?? null} />}
      <header class="site-header">
        <div class="brand">
          <Link href={session === null ? '/' : '/catalog'} class="brand-name">
            Seatwise
          </Link>
          {session !== null && <OrganizationMenu session={session} />}
        </div>
        {session !== null && (
          <nav aria-label="Main">
            <ul class="nav-list">
              {NAVIGATION.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={isCurrent(path, item.href) ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
              {SETTINGS_ROLES.has(session.user.role) && (
                <li>
                  <Link href="/settings" aria-current={isCurrent(path, '/settings') ? 'page' : undefined}>
                    Settings
                  </Link>
                </li>
              )}
            </ul>
          </nav>
        )}
        {session !== null && (
          <div class="account">
            <span class="account-name" title={session.user.email}>
              {session.user.name}
            </span>
            <button type="button" class="button-secondary" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function DemoBanner({ simulatorUrl }: { simulatorUrl: string | null }): JSX.Element {
  return (
    <div class="demo-banner" role="note" aria-label="Demo mode">
      <strong>Demo: simulated PagerDuty.</strong> The PagerDuty account here is generated; no real PagerDuty data is read.
      {simulatorUrl !== null && (
        <>
          {' '}
          <a href={simulatorUrl}>Open the simulator</a>
        </>
      )}
    </div>
  );
}

function isCurrent(path: string, href: string): boolean {
  return path === href || path.startsWith(`${href}/`);
}
