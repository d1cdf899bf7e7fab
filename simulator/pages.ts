import { createHash } from 'node:crypto';
import { escapeHtml } from './http-kit.ts';

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1b1b;margin:0}
main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.2)}
.banner{background:#ffd54f;color:#1b1b1b;font-weight:600;text-align:center;padding:.5rem}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}
input[type=email],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:4px;border:1px solid #333;cursor:pointer}
button.primary{background:#06ac38;color:#fff;border-color:#06ac38}.error{color:#b00020}
.hint{background:#eef;padding:.6rem;border-radius:4px}dt{font-weight:600}dd{margin:0 0 .6rem}`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * Returns the Content-Security-Policy of every page: no scripts at all, only the inline style above, and
 * forms that may post to the simulator and, through the redirect after consent, to `formTargets`.
 */
export function pagePolicy(formTargets: string[] = []): string {
  const formAction = ["'self'", ...formTargets].join(' ');
  return `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Simulated PagerDuty</title><style>${STYLE}</style></head>
<body><div class="banner" role="note">Simulated PagerDuty: a test double, not the real PagerDuty</div>
<main><h1>Simulated PagerDuty</h1>
${body}
</main></body></html>`;
}

export function loginPage(input: { requestId: string; demoEmail: string; demoPassword: string; email?: string; error?: string }): string {
  return layout(
    'Sign in',
    `<h2>Sign in</h2>
${input.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(input.error)}</p>`}
<p class="hint">Demo account owner: <strong>${escapeHtml(input.demoEmail)}</strong>, password <strong>${escapeHtml(input.demoPassword)}</strong></p>
<form method="post" action="/oauth/authorize/login">
<input type="hidden" name="request" value="${escapeHtml(input.requestId)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(input.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="primary" type="submit">Sign in</button>
</form>`,
  );
}

/** Plain-words descriptions of the scopes a person is asked to grant. */
export function describeScopes(scopes: string[]): string[] {
  const words: string[] = [];
  for (const scope of scopes) {
    if (scope === 'openid') words.push('Your identity: your name, email address and account');
    else if (scope === 'read') words.push('Read-only access to everything you can see in PagerDuty');
    else if (scope === 'write') words.push('Read and write access to everything you can change in PagerDuty');
    else words.push(`Scoped access: ${scope}`);
  }
  return words;
}

export function consentPage(input: {
  requestId: string;
  appName: string;
  subdomain: string;
  regionLabel: string;
  userName: string;
  userEmail: string;
  scopes: string[];
}): string {
  const access = describeScopes(input.scopes)
    .map((line) => `<li>${escapeHtml(line)}</li>`)
    .join('');
  return layout(
    'Authorize app',
    `<h2>Authorize ${escapeHtml(input.appName)}</h2>
<p><strong>${escapeHtml(input.appName)}</strong> asks for access to your PagerDuty account.</p>
<dl><dt>Account</dt><dd>${escapeHtml(input.subdomain)}</dd>
<dt>Service region</dt><dd>${escapeHtml(input.regionLabel)}</dd>
<dt>Signed in as</dt><dd>${escapeHtml(input.userName)} (${escapeHtml(input.userEmail)})</dd>
<dt>Access requested</dt><dd><ul>${access}</ul></dd></dl>
<form method="post" action="/oauth/authorize/consent">
<input type="hidden" name="request" value="${escapeHtml(input.requestId)}">
<button class="primary" type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<h2>${escapeHtml(title)}</h2><p class="error" role="alert">${escapeHtml(message)}</p>`);
}
