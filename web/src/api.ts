import type { z } from 'zod';
import { err, ok, type Result } from '../../src/lib/result.ts';
import { apiErrorSchema } from './api-types.ts';

/** A failed API call as the pages show it: the server's stable code and its plain sentence. */
export interface ApiFailure {
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  code: string;
  message: string;
}

export type ApiResult<T> = Result<T, ApiFailure>;

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  body?: unknown;
  /** The session's CSRF token; the server requires it on every state-changing call. */
  csrfToken?: string;
  signal?: AbortSignal;
}

/**
 * Calls a same-origin `/api` route and validates the JSON response with `schema`. Network
 * failures, error envelopes and responses of an unexpected shape come back as failures, so a
 * page can always show a sentence instead of breaking.
 */
export async function requestJson<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<ApiResult<z.infer<S>>> {
  const response = await send(path, options);
  if (!response.ok) return response;

  if (response.value.status === 204) {
    return err({ status: 204, code: 'empty_response', message: `The server sent no content for ${path}, but the page expected data. Reload the page.` });
  }

  const body = await readJson(response.value);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join('.') || '(root)' : '(root)';
    return err({
      status: response.value.status,
      code: 'unexpected_response',
      message: `The server's response to ${path} has an invalid field "${field}": ${issue?.message ?? 'unknown problem'}. Reload the page; if it persists, the server and dashboard versions differ.`,
    });
  }
  return ok(parsed.data as z.infer<S>);
}

/** Calls a route whose success carries no body that the page needs (204, 202). */
export async function requestEmpty(path: string, options: RequestOptions = {}): Promise<ApiResult<void>> {
  const response = await send(path, options);
  if (!response.ok) return response;
  return ok(undefined);
}

/**
 * Downloads the file a GET route sends (a CSV export) and saves it under the name in its
 * `Content-Disposition`, or `fallbackName` without one. Failures come back as for JSON calls.
 */
export async function requestDownload(path: string, fallbackName: string): Promise<ApiResult<{ fileName: string }>> {
  const response = await send(path, {});
  if (!response.ok) return response;

  const disposition = response.value.headers.get('content-disposition') ?? '';
  const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  saveBlob(fileName, await response.value.blob());
  return ok({ fileName });
}

/** Starts a download of `blob` as `fileName` without leaving the page. */
function saveBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // The browser has read the URL once click() returns; revoking later frees the blob.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

async function send(path: string, options: RequestOptions): Promise<ApiResult<Response>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.csrfToken !== undefined) headers['x-csrf-token'] = options.csrfToken;

  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal ?? null,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    return err({ status: 0, code: 'network_error', message: 'Seatwise could not reach its server. Check your connection and try again.' });
  }

  if (response.ok) return ok(response);
  return err(await readFailure(path, response));
}

async function readFailure(path: string, response: Response): Promise<ApiFailure> {
  const body = await readJson(response);
  const envelope = apiErrorSchema.safeParse(body);
  if (envelope.success) return { status: response.status, ...envelope.data.error };
  return {
    status: response.status,
    code: `http_${response.status}`,
    message: `The server responded to ${path} with HTTP ${response.status} ${response.statusText}. Try again in a moment.`,
  };
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}
