/** The path PagerDuty redirects to after its authorize page. The redirect URI is the public URL plus this path. */
export const CALLBACK_PATH = '/oauth/pagerduty/callback';

/** The cookie that binds an invitee's browser to the authorization it started. */
export const INVITE_COOKIE = 'seatwise_invite';

/** The confirmation page an invitee lands on after PagerDuty. */
export const INVITE_DONE_PATH = '/invites/pagerduty/done';
