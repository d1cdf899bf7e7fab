import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import type { PageProps } from '../app.tsx';
import { requestJson, type ApiFailure, type ApiResult } from '../api.ts';
import {
  billingPeriods,
  contractInputSchema,
  settingsSchema,
  unusedDayChoices,
  type ContractInput,
  type SettingsView,
} from '../api-types.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData, usePageTitle } from '../components/common.tsx';
import { MembersSettings } from '../components/members-settings.tsx';
import { formatLocalTime, humanize, localDecimalSeparator, parseDecimalInput, parseWholeNumberInput, toMajorUnits } from '../format.ts';
import { parsePriceCsv, type PriceRow } from '../price-csv.ts';
import { useSessionGuard } from '../session-guard.ts';

const DEFAULT_CURRENCY = 'USD';
const DEFAULT_NOTICE_PERIOD_DAYS = 30;

type Save = (path: string, method: 'PUT' | 'POST' | 'DELETE', body?: unknown) => Promise<ApiResult<SettingsView>>;

/**
 * Renders the settings an admin maintains: the contract with its price per license type (typed
 * in or imported from CSV), the inactivity window, the exempt list, the support email, the
 * members of the organization with their invitations, and the audit log.
 */
export function SettingsPage({ session, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('Settings');
  const { state, reload } = useApiData('/api/settings', settingsSchema);
  useSessionGuard(state, onSessionExpired);

  const save: Save = async (path, method, body) => {
    const result = await requestJson(path, settingsSchema, body === undefined ? { method, csrfToken: session.csrfToken } : { method, csrfToken: session.csrfToken, body });
    if (result.ok) await reload();
    return result;
  };

  return (
    <section aria-labelledby="settings-heading">
      <h1 id="settings-heading">Settings</h1>
      {state.status === 'loading' && <Loading label="Loading settings…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {state.status === 'loaded' && (
        <>
          <ContractForm settings={state.data} save={save} />
          <InactivityForm settings={state.data} save={save} />
          <ExemptionsForm settings={state.data} save={save} />
          <SupportEmailForm settings={state.data} defaultEmail={session.supportEmail} save={save} />
          <MembersSettings session={session} />
        </>
      )}
    </section>
  );
}

/** Tracks one form's save: pending, the last failure, and a success sentence. */
function useSaveState(): {
  isSaving: boolean;
  failure: ApiFailure | null;
  savedMessage: string | null;
  run: (action: () => Promise<ApiResult<SettingsView>>, successMessage: string) => Promise<void>;
} {
  const [isSaving, setSaving] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [savedMessage, setSavedMessage] = useState<string | null>(null);
  const run = async (action: () => Promise<ApiResult<SettingsView>>, successMessage: string): Promise<void> => {
    setSaving(true);
    setFailure(null);
    setSavedMessage(null);
    const outcome = await action();
    setSaving(false);
    if (outcome.ok) setSavedMessage(joinSentences(successMessage, recomputedSentence(outcome.value)));
    else setFailure(outcome.error);
  };
  return { isSaving, failure, savedMessage, run };
}

/** Says whether recommendations and savings already reflect a change that affects them. */
function recomputedSentence(view: SettingsView): string | null {
  if (view.recommendationsRecomputedFor === undefined) return null;
  if (view.recommendationsRecomputedFor === null) return 'Recommendations and savings are computed after the first sync.';
  return `Recommendations and savings are updated now, for the data synced up to ${formatLocalTime(view.recommendationsRecomputedFor)}.`;
}

function joinSentences(first: string, second: string | null): string {
  return second === null ? first : `${first} ${second}`;
}

function SaveFeedback({ failure, savedMessage }: { failure: ApiFailure | null; savedMessage: string | null }): JSX.Element | null {
  if (failure !== null) return <ErrorMessage failure={failure} />;
  if (savedMessage === null) return null;
  return (
    <p class="message message-success" role="status">
      {savedMessage}
    </p>
  );
}

function ContractForm({ settings, save }: { settings: SettingsView; save: Save }): JSX.Element {
  const contract = settings.contract;
  const currency = contract?.currency ?? DEFAULT_CURRENCY;
  const [rows, setRows] = useState<PriceRow[]>(() => initialPriceRows(settings));
  const [problems, setProblems] = useState<string[]>([]);
  const [invalidFields, setInvalidFields] = useState<ReadonlySet<string>>(new Set());
  const saveState = useSaveState();
  const decimalExample = `41${localDecimalSeparator()}50`;

  useEffect(() => setRows(initialPriceRows(settings)), [settings]);

  const [problemsLead, setProblemsLead] = useState('Nothing was saved.');
  const showProblems = (found: FieldProblem[], lead = 'Nothing was saved.'): void => {
    setProblemsLead(lead);
    setProblems(found.map((problem) => problem.message));
    setInvalidFields(new Set(found.flatMap((problem) => (problem.field === null ? [] : [problem.field]))));
  };

  const updateRow = (index: number, change: Partial<PriceRow>): void => {
    setRows((current) => current.map((row, rowIndex) => (rowIndex === index ? { ...row, ...change } : row)));
  };

  const onImport = async (event: Event): Promise<void> => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (file === undefined) return;
    const imported = parsePriceCsv(await file.text(), new Set(settings.licenses.map((license) => license.licenseName)));
    input.value = '';
    // A file with any bad line imports nothing, so the form never contains half a price list.
    showProblems(
      imported.problems.map((message) => ({ field: null, message })),
      `Nothing was imported from ${file.name}.`,
    );
    if (imported.problems.length === 0) setRows(mergeRows(rows, imported.rows));
  };

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const parsed = readContract(form, rows);
    if (!parsed.ok) {
      showProblems(parsed.problems);
      return;
    }
    showProblems([]);
    await saveState.run(() => save('/api/settings/contract', 'PUT', parsed.contract), 'Contract saved.');
  };

  return (
    <section class="card" aria-labelledby="contract-heading">
      <h2 id="contract-heading">Contract and prices</h2>
      <p class="hint">Prices turn recommendations into amounts. Enter the price of one seat per billing period, as on your PagerDuty invoice.</p>
      <form class="stacked-form" noValidate onSubmit={(event) => void onSubmit(event)}>
        {/* These fields take only an initial value: a price edit re-renders the form, and a
            controlled value would reset what the user typed here before it is saved. */}
        <div class="form-grid">
          <div class="field">
            <label for="contract-plan">Plan</label>
            <input id="contract-plan" name="plan" type="text" defaultValue={contract?.plan ?? ''} placeholder="e.g. Business" />
          </div>
          <div class="field">
            <label for="contract-currency">Currency</label>
            <input
              id="contract-currency"
              name="currency"
              type="text"
              defaultValue={currency}
              maxLength={3}
              autoComplete="off"
              aria-invalid={invalidFields.has(CURRENCY_FIELD) ? 'true' : undefined}
            />
          </div>
          <div class="field">
            <label for="contract-period">Billing period</label>
            <select id="contract-period" name="billingPeriod">
              {billingPeriods.map((period) => (
                <option key={period} value={period} selected={period === (contract?.billingPeriod ?? 'annual')}>
                  {humanize(period)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="contract-renewal">Renewal date</label>
            <input id="contract-renewal" name="renewalDate" type="date" defaultValue={contract?.renewalDate ?? ''} />
          </div>
          <div class="field">
            <label for="contract-notice">Notice period (days)</label>
            <input
              id="contract-notice"
              name="noticePeriodDays"
              type="text"
              inputMode="numeric"
              defaultValue={String(contract?.noticePeriodDays ?? DEFAULT_NOTICE_PERIOD_DAYS)}
              aria-invalid={invalidFields.has(NOTICE_FIELD) ? 'true' : undefined}
            />
          </div>
        </div>

        <TableScroller label="Prices per license, scrollable">
          <table aria-label="Prices per license" class="wide-table">
            <thead>
              <tr>
                <th scope="col">License</th>
                <th scope="col">Seats bought</th>
                <th scope="col">Price per seat</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                <tr key={row.licenseName}>
                  <th scope="row">{row.licenseName}</th>
                  <td>
                    <input
                      type="text"
                      inputMode="numeric"
                      autoComplete="off"
                      aria-label={`Seats bought of ${row.licenseName}`}
                      aria-invalid={invalidFields.has(seatsField(row.licenseName)) ? 'true' : undefined}
                      value={row.seats}
                      onInput={(event) => updateRow(index, { seats: (event.currentTarget as HTMLInputElement).value })}
                    />
                  </td>
                  <td>
                    <input
                      type="text"
                      inputMode="decimal"
                      autoComplete="off"
                      placeholder={decimalExample}
                      aria-label={`Price per seat of ${row.licenseName}`}
                      aria-invalid={invalidFields.has(priceField(row.licenseName)) ? 'true' : undefined}
                      value={row.price}
                      onInput={(event) => updateRow(index, { price: (event.currentTarget as HTMLInputElement).value })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroller>
        {rows.length === 0 && <p class="hint">No license types yet. They appear after the first PagerDuty sync.</p>}

        <div class="field">
          <label for="contract-import">Import prices from CSV</label>
          <p class="hint" id="contract-import-hint">
            Columns: license, seats, price (e.g. <code>Business (Full User),120,41.00</code>), with a point for decimals. A header row is optional. Each
            license must exist in the synced PagerDuty account; a file with any invalid line imports nothing.
          </p>
          <input id="contract-import" type="file" accept=".csv,text/csv" aria-describedby="contract-import-hint" onChange={(event) => void onImport(event)} />
        </div>

        {problems.length > 0 && (
          <div class="message message-error" role="alert">
            <p>
              {problemsLead} Fix {problems.length === 1 ? 'this problem' : `these ${problems.length} problems`}:
            </p>
            <ul>
              {problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </div>
        )}
        <SaveFeedback failure={saveState.failure} savedMessage={saveState.savedMessage} />
        <div>
          <button type="submit" disabled={saveState.isSaving}>
            {saveState.isSaving ? 'Saving…' : 'Save contract'}
          </button>
        </div>
      </form>
    </section>
  );
}

function InactivityForm({ settings, save }: { settings: SettingsView; save: Save }): JSX.Element {
  const saveState = useSaveState();
  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const unusedDays = Number(new FormData(event.currentTarget as HTMLFormElement).get('unusedDays'));
    await saveState.run(() => save('/api/settings/recommendations', 'PUT', { unusedDays }), `Seats now count as unused after ${unusedDays} days without activity.`);
  };
  return (
    <section class="card" aria-labelledby="inactivity-heading">
      <h2 id="inactivity-heading">Inactivity window</h2>
      <form class="inline-fields" onSubmit={(event) => void onSubmit(event)}>
        <div class="field">
          <label for="unused-days">A seat counts as unused after</label>
          <select id="unused-days" name="unusedDays" value={String(settings.unusedDays)}>
            {unusedDayChoices.map((days) => (
              <option key={days} value={String(days)}>
                {days} days without activity
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={saveState.isSaving}>
          Save window
        </button>
      </form>
      <SaveFeedback failure={saveState.failure} savedMessage={saveState.savedMessage} />
    </section>
  );
}

const exemptionFormSchema = z.object({
  email: z.email('Enter the email address of the person to exempt.'),
  reason: z.string().trim().max(500),
});

function ExemptionsForm({ settings, save }: { settings: SettingsView; save: Save }): JSX.Element {
  const saveState = useSaveState();
  const [fieldError, setFieldError] = useState<string | null>(null);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const parsed = exemptionFormSchema.safeParse(Object.fromEntries(new FormData(formElement)));
    if (!parsed.success) {
      setFieldError(parsed.error.issues[0]?.message ?? 'Enter an email address.');
      return;
    }
    setFieldError(null);
    const body = { email: parsed.data.email, reason: parsed.data.reason === '' ? null : parsed.data.reason };
    await saveState.run(() => save('/api/settings/exemptions', 'POST', body), `${parsed.data.email} is exempt from recommendations.`);
    formElement.reset();
  };

  const remove = (email: string): Promise<void> =>
    saveState.run(() => save(`/api/settings/exemptions/${encodeURIComponent(email)}`, 'DELETE'), `${email} is no longer exempt.`);

  return (
    <section class="card" aria-labelledby="exemptions-heading">
      <h2 id="exemptions-heading">Exempt people</h2>
      <p class="hint">Seatwise never recommends removing or downgrading these people, e.g. executives who must stay reachable.</p>
      {settings.exemptions.length === 0 ? (
        <p>Nobody is exempt.</p>
      ) : (
        <ul class="exemption-list" aria-label="Exempt people">
          {settings.exemptions.map((exemption) => (
            <li key={exemption.email}>
              <span>
                {exemption.email}
                {exemption.reason !== null && <span class="signal">{exemption.reason}</span>}
                <span class="signal">
                  Since <Time iso={exemption.createdAt} />
                </span>
              </span>
              <button type="button" class="button-secondary" aria-label={`Remove exemption of ${exemption.email}`} onClick={() => void remove(exemption.email)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="inline-fields" noValidate onSubmit={(event) => void onSubmit(event)}>
        <div class="field">
          <label for="exempt-email">Email</label>
          <input
            id="exempt-email"
            name="email"
            type="email"
            autoComplete="off"
            aria-invalid={fieldError !== null ? 'true' : undefined}
            aria-describedby={fieldError !== null ? 'exempt-email-error' : undefined}
          />
        </div>
        <div class="field">
          <label for="exempt-reason">Reason (optional)</label>
          <input id="exempt-reason" name="reason" type="text" />
        </div>
        <button type="submit" disabled={saveState.isSaving}>
          Add exemption
        </button>
      </form>
      {fieldError !== null && (
        <p class="field-error" id="exempt-email-error">
          {fieldError}
        </p>
      )}
      <SaveFeedback failure={saveState.failure} savedMessage={saveState.savedMessage} />
    </section>
  );
}

/**
 * Renders the organization's support address. The field keeps what the person types until they
 * save, because checking or resetting it mid-typing loses input. An empty field means the default.
 */
function SupportEmailForm({ settings, defaultEmail, save }: { settings: SettingsView; defaultEmail: string; save: Save }): JSX.Element {
  const saveState = useSaveState();
  const [draft, setDraft] = useState(settings.supportEmail ?? '');
  const [fieldError, setFieldError] = useState<string | null>(null);

  // A saved value from the server replaces the draft only when the saved value itself changes.
  useEffect(() => setDraft(settings.supportEmail ?? ''), [settings.supportEmail]);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const value = draft.trim();
    if (value !== '' && !z.email().safeParse(value).success) {
      setFieldError(`Support email "${value}" is not an email address. Enter one such as help@example.com, or leave the field empty to use the default.`);
      return;
    }
    setFieldError(null);
    await saveState.run(
      () => save('/api/settings/support-email', 'PUT', { supportEmail: value === '' ? null : value }),
      value === '' ? 'Support email cleared; the default address is used.' : 'Support email saved.',
    );
  };
  return (
    <section class="card" aria-labelledby="support-heading">
      <h2 id="support-heading">Support email</h2>
      <p class="hint" id="support-email-hint">
        Shown wherever something fails that people cannot fix alone. Currently {defaultEmail}. Leave the field empty to use the default.
      </p>
      <form class="inline-fields" noValidate onSubmit={(event) => void onSubmit(event)}>
        <div class="field">
          <label for="support-email">Support email</label>
          <input
            id="support-email"
            name="supportEmail"
            type="email"
            autoComplete="off"
            value={draft}
            onInput={(event) => setDraft((event.currentTarget as HTMLInputElement).value)}
            aria-invalid={fieldError !== null ? 'true' : undefined}
            aria-describedby={fieldError !== null ? 'support-email-hint support-email-error' : 'support-email-hint'}
          />
        </div>
        <button type="submit" disabled={saveState.isSaving}>
          Save email
        </button>
      </form>
      {fieldError !== null && (
        <p class="field-error" id="support-email-error">
          {fieldError}
        </p>
      )}
      <SaveFeedback failure={saveState.failure} savedMessage={saveState.savedMessage} />
    </section>
  );
}

function initialPriceRows(settings: SettingsView): PriceRow[] {
  const currency = settings.contract?.currency ?? DEFAULT_CURRENCY;
  const lines = new Map((settings.contract?.lines ?? []).map((line) => [line.licenseName, line]));
  const names = [...new Set([...settings.licenses.map((license) => license.licenseName), ...lines.keys()])];
  return names.map((licenseName) => {
    const line = lines.get(licenseName);
    const roleGroup = line?.roleGroup ?? settings.licenses.find((license) => license.licenseName === licenseName)?.roleGroup ?? null;
    return {
      licenseName,
      roleGroup,
      seats: line?.seats === null || line?.seats === undefined ? '' : String(line.seats),
      price: line === undefined ? '' : String(toMajorUnits(line.pricePerSeatMinor, currency)),
    };
  });
}

function mergeRows(current: PriceRow[], imported: PriceRow[]): PriceRow[] {
  const merged = new Map(current.map((row) => [row.licenseName, row]));
  for (const row of imported) merged.set(row.licenseName, { ...row, roleGroup: merged.get(row.licenseName)?.roleGroup ?? row.roleGroup });
  return [...merged.values()];
}

/** One reason the contract cannot be saved. `field` names the input to flag, or is null for the form as a whole. */
interface FieldProblem {
  field: string | null;
  message: string;
}

const CURRENCY_FIELD = 'currency';
const NOTICE_FIELD = 'noticePeriodDays';

function seatsField(licenseName: string): string {
  return `seats:${licenseName}`;
}

function priceField(licenseName: string): string {
  return `price:${licenseName}`;
}

/** Reads the contract form into the API's shape, naming every invalid field at once. */
function readContract(form: FormData, rows: PriceRow[]): { ok: true; contract: ContractInput } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const currency = String(form.get('currency') ?? '').trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) problems.push({ field: CURRENCY_FIELD, message: 'Currency must be a three-letter ISO code such as USD or EUR.' });
  const noticeText = String(form.get('noticePeriodDays') ?? '');
  const noticePeriodDays = parseWholeNumberInput(noticeText);
  if (noticePeriodDays === null) problems.push({ field: NOTICE_FIELD, message: `Notice period must be a whole number of days, 0 or more; got "${noticeText}".` });

  const lines: ContractInput['lines'] = [];
  for (const row of rows) {
    const line = readPriceRow(row, problems);
    if (line !== null) lines.push(line);
  }
  if (lines.length === 0 && problems.length === 0) problems.push({ field: null, message: 'Enter the price per seat of at least one license.' });
  if (problems.length > 0 || noticePeriodDays === null) return { ok: false, problems };

  const plan = String(form.get('plan') ?? '').trim();
  const renewalDate = String(form.get('renewalDate') ?? '').trim();
  const contract = contractInputSchema.safeParse({
    plan: plan === '' ? null : plan,
    currency,
    billingPeriod: String(form.get('billingPeriod') ?? 'annual'),
    renewalDate: renewalDate === '' ? null : renewalDate,
    noticePeriodDays,
    lines,
  });
  if (!contract.success) return { ok: false, problems: contract.error.issues.map((issue) => ({ field: null, message: `${issue.path.join('.')}: ${issue.message}` })) };
  return { ok: true, contract: contract.data };
}

/**
 * Reads one license's seats and price, adding a problem per invalid field. A row without a price
 * is not part of the contract. Seats typed without a price are a problem, so they are never dropped silently.
 */
function readPriceRow(row: PriceRow, problems: FieldProblem[]): ContractInput['lines'][number] | null {
  const seatsText = row.seats.trim();
  const priceText = row.price.trim();
  const seats = seatsText === '' ? null : parseWholeNumberInput(seatsText);
  const pricePerSeat = priceText === '' ? null : parseDecimalInput(priceText);

  if (seatsText !== '' && seats === null) {
    problems.push({ field: seatsField(row.licenseName), message: `Seats bought of ${row.licenseName} must be a whole number, or empty; got "${seatsText}".` });
  }
  if (priceText !== '' && pricePerSeat === null) {
    const example = `41${localDecimalSeparator()}50`;
    problems.push({
      field: priceField(row.licenseName),
      message: `Price per seat of ${row.licenseName} must be an amount with at most two decimals and no thousands separator, such as ${example}; got "${priceText}".`,
    });
  }
  if (priceText === '' && seatsText !== '') {
    problems.push({ field: priceField(row.licenseName), message: `Price per seat of ${row.licenseName} is empty: enter it, or clear the seats.` });
  }
  if (pricePerSeat === null || (seatsText !== '' && seats === null)) return null;
  return { licenseName: row.licenseName, roleGroup: row.roleGroup, seats, pricePerSeat };
}
