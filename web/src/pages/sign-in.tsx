import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { requestJson, type ApiFailure } from '../api.ts';
import { sessionSchema, type SessionView } from '../api-types.ts';
import { ErrorMessage, usePageTitle } from '../components/common.tsx';
import { Field } from '../components/field.tsx';
import { Link } from '../router.tsx';

const signInFormSchema = z.object({
  email: z.email('Enter the email address you signed up with.'),
  password: z.string().min(1, 'Enter your password.'),
});

type FieldErrors = Partial<Record<keyof z.infer<typeof signInFormSchema>, string>>;

export function SignInPage({ next, onSignedIn }: { next: string; onSignedIn: (session: SessionView, next: string) => void }): JSX.Element {
  usePageTitle('Sign in');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const parsed = signInFormSchema.safeParse(Object.fromEntries(form));
    if (!parsed.success) {
      setFieldErrors(Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message])) as FieldErrors);
      return;
    }
    setFieldErrors({});
    setFailure(null);
    setSubmitting(true);

    const session = await requestJson('/api/session', sessionSchema, { method: 'POST', body: parsed.data });
    setSubmitting(false);
    if (!session.ok) {
      setFailure(session.error);
      return;
    }
    onSignedIn(session.value, next);
  };

  return (
    <section class="narrow" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      <p class="lead">Sign in to see what your organization uses of the apps it pays for.</p>
      {failure !== null && <ErrorMessage failure={failure} />}
      <form class="stacked-form" noValidate onSubmit={(event) => void onSubmit(event)}>
        <Field name="email" label="Email" type="email" autoComplete="username" error={fieldErrors.email} />
        <Field name="password" label="Password" type="password" autoComplete="current-password" error={fieldErrors.password} />
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        <Link href="/reset-password">Forgot your password?</Link>
      </p>
    </section>
  );
}
