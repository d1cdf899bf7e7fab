import type { JSX } from 'preact';

interface FieldProps {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  hint?: string;
  error?: string | undefined;
}

/** Renders a labelled input whose hint and error are tied to it for screen readers. */
export function Field({ name, label, type = 'text', autoComplete, hint, error }: FieldProps): JSX.Element {
  const id = `field-${name}`;
  const describedBy = [hint !== undefined ? `${id}-hint` : null, error !== undefined ? `${id}-error` : null].filter((part) => part !== null).join(' ');
  const inputProps = {
    id,
    name,
    autoComplete,
    required: true,
    'aria-invalid': error !== undefined ? ('true' as const) : undefined,
    'aria-describedby': describedBy === '' ? undefined : describedBy,
  };
  // One element per type, because Preact's typings check attributes against each input type.
  const input = type === 'password' ? <input type="password" {...inputProps} /> : type === 'email' ? <input type="email" {...inputProps} /> : <input type="text" {...inputProps} />;

  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint !== undefined && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {input}
      {error !== undefined && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
