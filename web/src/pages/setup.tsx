import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { requestJson, type ApiFailure } from '../api.ts';
import { sessionSchema, type SessionView } from '../api-types.ts';
import { ErrorMessage, usePageTitle } from '../components/common.tsx';
import { Field } from '../components/field.tsx';

const MIN_PASSWORD_LENGTH = 12;

const setupFormSchema = z.object({
  organizationName: z.string().trim().min(1, 'Enter the name of your organization.'),
  name: z.string().trim().min(1, 'Enter your name.'),
  email: z.email('Enter an email address such as you@example.com.'),
  password: z.string().min(MIN_PASSWORD_LENGTH, `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`),
});

type SetupField = keyof z.infer<typeof setupFormSchema>;
type FieldErrors = Partial<Record<SetupField, string>>;

const setupCreatedSchema = z.object({ user: z.object({ id: z.string() }).loose() });

/** First start: creates the organization and its owner, then signs the owner in. */
export function SetupPage({ onSignedIn }: { onSignedIn: (session: SessionView, next: string) => void }): JSX.Element {
  usePageTitle('Set up Seatwise');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const parsed = setupFormSchema.safeParse(Object.fromEntries(form));
    if (!parsed.success) {
      setFieldErrors(Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message])) as FieldErrors);
      return;
    }
    setFieldErrors({});
    setFailure(null);
    setSubmitting(true);

    const created = await requestJson('/api/setup', setupCreatedSchema, { method: 'POST', body: parsed.data });
    if (!created.ok) {
      setSubmitting(false);
      setFailure(created.error);
      return;
    }
    const session = await requestJson('/api/session', sessionSchema);
    setSubmitting(false);
    if (!session.ok) {
      setFailure(session.error);
      return;
    }
    onSignedIn(session.value, '/catalog');
  };

  return (
    <section class="narrow" aria-labelledby="setup-heading">
      <h1 id="setup-heading">Set up Seatwise</h1>
      <p class="lead">Create your organization and its first administrator. You can invite colleagues afterwards.</p>
      {failure !== null && <ErrorMessage failure={failure} />}
      <form class="stacked-form" noValidate onSubmit={(event) => void onSubmit(event)}>
        <Field name="organizationName" label="Organization name" autoComplete="organization" error={fieldErrors.organizationName} />
        <Field name="name" label="Your name" autoComplete="name" error={fieldErrors.name} />
        <Field name="email" label="Email" type="email" autoComplete="email" error={fieldErrors.email} />
        <Field
          name="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          error={fieldErrors.password}
        />
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? 'Creating…' : 'Create organization'}
        </button>
      </form>
    </section>
  );
}
