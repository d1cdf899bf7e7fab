import type { JSX } from 'preact';
import type { GuardrailView } from '../api-types.ts';

/** Lists the guardrails that block or flag a recommendation, each with its reason. */
export function GuardrailList({ guardrails }: { guardrails: GuardrailView[] }): JSX.Element {
  if (guardrails.length === 0) return <span class="muted">None</span>;
  return (
    <ul class="guardrails">
      {guardrails.map((guardrail) => (
        <li key={guardrail.code} class={`guardrail guardrail-${guardrail.severity}`}>
          <strong>{guardrail.severity === 'block' ? 'Blocks: ' : 'Check: '}</strong>
          {guardrail.message}
        </li>
      ))}
    </ul>
  );
}
