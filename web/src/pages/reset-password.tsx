import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { requestEmpty, requestJson, type ApiFailure } from '../api.ts';
import { ErrorMessage, usePageTitle } from '../components/common.tsx';
import { Field } from '../components/field.tsx';
import { Link } from '../router.tsx';

/** The server's minimum password length; `POST /api/password-reset/confirm` rejects shorter ones. */
const MIN_PASSWORD_LENGTH = 12;

const requestFormSchema = z.object({ email: z.email('Enter the email address you sign in with.') });

const newPasswordFormSchema = z
  .object({
    password: z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`),
    passwordRepeat: z.string(),
  })
  .refine((form) => form.password === form.passwordRepeat, { path: ['passwordRepeat'], message: 'The two passwords differ. Type the same password twice.' });

const resetRequestedSchema = z.object({ message: z.string() });

type FieldErrors = Partial<Record<'email' | 'password' | 'passwordRepeat', string>>;

/**
 * Renders the password-reset page. Without a token it requests a reset link by mail, and with
 * the token of such a link (`/reset-password?token=…`) it sets a new password.
 */
export function ResetPasswordPage({ token }: { token: string | null }): JSX.Element {
  usePageTitle('Reset your password');
  return (
    <section class="narrow" aria-labelledby="reset-password-heading">
      <h1 id="reset-password-heading">Reset your password</h1>
      {token === null || token === '' ? <RequestResetForm /> : <NewPasswordForm token={token} />}
    </section>
  );
}

function RequestResetForm(): JSX.Element {
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [sentMessage, setSentMessage] = useState<string | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const parsed = requestFormSchema.safeParse(Object.fromEntries(new FormData(event.currentTarget as HTMLFormElement)));
    if (!parsed.success) {
      setFieldErrors(fieldErrorsOf(parsed.error));
      return;
    }
    setFieldErrors({});
    setFailure(null);
    setSubmitting(true);

    const result = await requestJson('/api/password-reset', resetRequestedSchema, { method: 'POST', body: parsed.data });
    setSubmitting(false);
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    setSentMessage(result.value.message);
  };

  if (sentMessage !== null) {
    return (
      <>
        <p role="status">{sentMessage}</p>
        <p>
          <Link href="/sign-in">Back to sign-in</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <p class="lead">Enter the email address you sign in with, and Seatwise mails you a link to set a new password.</p>
      {failure !== null && <ErrorMessage failure={failure} />}
      <form class="stacked-form" noValidate onSubmit={(event) => void onSubmit(event)}>
        <Field name="email" label="Email" type="email" autoComplete="username" error={fieldErrors.email} />
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? 'Sending…' : 'Send reset link'}
        </button>
      </form>
      <p>
        <Link href="/sign-in">Back to sign-in</Link>
      </p>
    </>
  );
}

function NewPasswordForm({ token }: { token: string }): JSX.Element {
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [isDone, setDone] = useState(false);
  const [isSubmitting, setSubmitting] = useState(false);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const parsed = newPasswordFormSchema.safeParse(Object.fromEntries(new FormData(event.currentTarget as HTMLFormElement)));
    if (!parsed.success) {
      setFieldErrors(fieldErrorsOf(parsed.error));
      return;
    }
    setFieldErrors({});
    setFailure(null);
    setSubmitting(true);

    const result = await requestEmpty('/api/password-reset/confirm', { method: 'POST', body: { token, password: parsed.data.password } });
    setSubmitting(false);
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    setDone(true);
  };

  if (isDone) {
    return (
      <>
        <p role="status">Your password is changed, and every session that used the old one is signed out.</p>
        <p>
          <Link href="/sign-in">Sign in with the new password</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <p class="lead">Choose a new password. The link works once.</p>
      {failure !== null && <ErrorMessage failure={failure} />}
      {failure?.code === 'reset_link_invalid' && (
        <p>
          <Link href="/reset-password">Request a new link</Link>
        </p>
      )}
      <form class="stacked-form" noValidate onSubmit={(event) => void onSubmit(event)}>
        <Field
          name="password"
          label="New password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          error={fieldErrors.password}
        />
        <Field name="passwordRepeat" label="Repeat the new password" type="password" autoComplete="new-password" error={fieldErrors.passwordRepeat} />
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? 'Saving…' : 'Set new password'}
        </button>
      </form>
    </>
  );
}

function fieldErrorsOf(error: z.ZodError): FieldErrors {
  return Object.fromEntries(error.issues.map((issue) => [String(issue.path[0]), issue.message])) as FieldErrors;
}
