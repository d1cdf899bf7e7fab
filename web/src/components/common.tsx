import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { requestJson, type ApiFailure } from '../api.ts';
import { formatLocalTime, formatUtcTime } from '../format.ts';

/** Renders an instant in the viewer's time zone, with the UTC instant in the hover title. */
export function Time({ iso, children }: { iso: string; children?: ComponentChildren }): JSX.Element {
  return (
    <time dateTime={iso} title={formatUtcTime(iso)}>
      {children ?? formatLocalTime(iso)}
    </time>
  );
}

/** An ISO 8601 instant in UTC as the server writes it, e.g. 2026-12-04T19:52:00.000Z. */
const UTC_INSTANT = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)/;

/** Renders server text as text, with each UTC instant in it shown as a `Time` in the viewer's time zone. */
export function TextWithTimes({ text }: { text: string }): JSX.Element {
  // split() with a capturing group puts the instants at the odd indexes.
  const parts = text.split(UTC_INSTANT);
  return <>{parts.map((part, index) => (index % 2 === 1 ? <Time key={index} iso={part} /> : part))}</>;
}

/** Renders a failure sentence, announced to screen readers at once. */
export function ErrorMessage({ failure, supportEmail }: { failure: ApiFailure; supportEmail?: string | undefined }): JSX.Element {
  return (
    <div class="message message-error" role="alert">
      <p>{failure.message}</p>
      {supportEmail !== undefined && <SupportLine supportEmail={supportEmail} />}
    </div>
  );
}

export function SupportLine({ supportEmail }: { supportEmail: string }): JSX.Element {
  return (
    <p class="support">
      Need help? Write to <a href={`mailto:${supportEmail}`}>{supportEmail}</a>.
    </p>
  );
}

export function Loading({ label }: { label: string }): JSX.Element {
  return (
    <p class="loading" role="status">
      {label}
    </p>
  );
}

export type LoadState<T> = { status: 'loading' } | { status: 'loaded'; data: T } | { status: 'failed'; failure: ApiFailure };

/**
 * Loads `path` and re-loads whenever it changes. The previous data stays on screen until the new
 * response arrives, so filters and polling do not flicker; `isLoading` tells whether a request is
 * still out. `reload` fetches the same path again.
 */
export function useApiData<S extends z.ZodType>(
  path: string | null,
  schema: S,
): { state: LoadState<z.infer<S>>; isLoading: boolean; reload: () => Promise<void> } {
  const [state, setState] = useState<LoadState<z.infer<S>>>({ status: 'loading' });
  const [isLoading, setLoading] = useState(true);

  const load = useCallback(
    async (signal?: AbortSignal): Promise<void> => {
      if (path === null) return;
      setLoading(true);
      const result = await requestJson(path, schema, signal === undefined ? {} : { signal });
      if (signal?.aborted === true) return;
      setState(result.ok ? { status: 'loaded', data: result.value } : { status: 'failed', failure: result.error });
      setLoading(false);
    },
    [path, schema],
  );

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).catch(ignoreAbort);
    return () => controller.abort();
  }, [load]);

  const reload = useCallback(() => load().catch(ignoreAbort), [load]);
  return { state, isLoading, reload };
}

function ignoreAbort(cause: unknown): void {
  if (cause instanceof DOMException && cause.name === 'AbortError') return;
  throw cause;
}

/** Wraps a wide table so it scrolls sideways on narrow screens, also with the keyboard. */
export function TableScroller({ label, children }: { label: string; children: ComponentChildren }): JSX.Element {
  return (
    <div class="table-scroller" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** Sets the browser tab's title to name the page, as screen readers announce it on load. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Seatwise`;
  }, [title]);
}
