import type { JSX } from 'preact';
import { Link } from '../router.tsx';

export function NotFoundPage({ path }: { path: string }): JSX.Element {
  return (
    <section aria-labelledby="not-found-heading">
      <h1 id="not-found-heading">Page not found</h1>
      <p>
        Seatwise has no page at <code>{path}</code>. Go to the <Link href="/catalog">catalog</Link> to find your apps.
      </p>
    </section>
  );
}
