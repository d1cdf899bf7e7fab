/**
 * Walks the simulator's login and consent pages with plain HTTP, as a person with a browser would,
 * so tests can run the OAuth flow without Chromium.
 */
export interface ConsentDriverOptions {
  email: string;
  password: string;
  decision?: 'authorize' | 'deny';
}

export interface ConsentResult {
  /** The URL PagerDuty redirected the browser to: the app's redirect URI with `code` or `error`. */
  callbackUrl: URL;
  loginHtml: string;
  consentHtml: string;
}

function hiddenRequestId(html: string): string {
  const found = /name="request" value="([^"]+)"/.exec(html);
  if (found?.[1] === undefined) throw new Error('The simulator page has no hidden request field; is this the login or consent page?');
  return found[1];
}

function decodeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
}

async function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
}

/** Opens `authorizeUrl`, signs in, then presses Authorize (or Deny) and returns the redirect target. */
export async function completeConsent(authorizeUrl: string, options: ConsentDriverOptions): Promise<ConsentResult> {
  const origin = new URL(authorizeUrl).origin;

  const loginResponse = await fetch(authorizeUrl, { redirect: 'manual' });
  const loginHtml = await loginResponse.text();
  if (loginResponse.status !== 200) throw new Error(`The authorize page returned HTTP ${loginResponse.status}: ${loginHtml.slice(0, 300)}`);
  const requestId = decodeHtml(hiddenRequestId(loginHtml));

  const loginSubmit = await postForm(`${origin}/oauth/authorize/login`, { request: requestId, email: options.email, password: options.password });
  const consentLocation = loginSubmit.headers.get('location');
  if (loginSubmit.status !== 303 || consentLocation === null) throw new Error(`Sign-in failed with HTTP ${loginSubmit.status}; check the email and password`);

  const consentResponse = await fetch(new URL(consentLocation, origin), { redirect: 'manual' });
  const consentHtml = await consentResponse.text();

  const decision = await postForm(`${origin}/oauth/authorize/consent`, { request: decodeHtml(hiddenRequestId(consentHtml)), decision: options.decision ?? 'authorize' });
  const callback = decision.headers.get('location');
  if (callback === null) throw new Error(`The consent form returned HTTP ${decision.status} without a redirect`);
  return { callbackUrl: new URL(callback), loginHtml, consentHtml };
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope: string;
  id_token: string;
}

/**
 * Runs the whole authorization-code flow against a simulator and returns its token response:
 * authorize, sign in as `email`, consent, exchange the code.
 */
export async function authorizeAndExchange(options: {
  identityUrl: string;
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
  scope?: string;
  redirectUri?: string;
}): Promise<TokenResponse> {
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:9/oauth/callback';
  const url = new URL('/oauth/authorize', options.identityUrl);
  url.search = new URLSearchParams({ client_id: options.clientId, redirect_uri: redirectUri, response_type: 'code', scope: options.scope ?? 'read' }).toString();
  const { callbackUrl } = await completeConsent(url.toString(), { email: options.email, password: options.password });
  const code = callbackUrl.searchParams.get('code');
  if (code === null) throw new Error(`The authorization returned no code: ${callbackUrl.toString()}`);

  const response = await fetch(`${options.identityUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: options.clientId, client_secret: options.clientSecret, code, redirect_uri: redirectUri }),
  });
  const body = (await response.json()) as TokenResponse;
  if (response.status !== 200) throw new Error(`The token exchange failed with HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body;
}
