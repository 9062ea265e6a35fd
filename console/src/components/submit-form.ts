import { useRef, useState } from 'preact/hooks';
import { DEFAULT_PRIORITY, PRIORITIES, type Priority } from '../../../functions/core/priority.ts';
import { api } from '../api/client.ts';
import { JobSchema } from '../api/schemas.ts';
import { specOf, type CommandForm, type JobFormValues } from '../job-form.ts';
import { html } from '../html.ts';
import { navigate, paths } from '../router.ts';
import { ErrorBox } from './common.ts';

const EMPTY: JobFormValues = { form: 'argv', command: '', priority: DEFAULT_PRIORITY, timeoutSeconds: '', maxAttempts: '' };

const PLACEHOLDERS: Record<CommandForm, string> = {
  argv: 'sh\n-c\necho hello',
  shell: 'echo hello && sleep 2',
};

const valueOf = (event: Event) => (event.target as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement).value;

/**
 * A new job: its command in either form, priority, timeout and attempts, POSTed to /v1/jobs. The form is mounted
 * afresh each time it is opened, and its Idempotency-Key lives as long as it does: a double click, or a submit sent
 * again after a network error, gives the job the first one created, never a second.
 */
export function SubmitJobForm({ onClose }: { onClose: () => void }) {
  const [values, setValues] = useState<JobFormValues>(EMPTY);
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  // A ref, not only the state: two clicks may land before the button re-renders as disabled.
  const sending = useRef(false);
  const set = (patch: Partial<JobFormValues>) => setValues((current) => ({ ...current, ...patch }));

  const submit = async (event: Event) => {
    event.preventDefault();
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    setError(undefined);
    try {
      const job = await api('/v1/jobs', JobSchema, { method: 'POST', body: specOf(values), headers: { 'idempotency-key': idempotencyKey } });
      navigate(paths.job(job.jobId));
    } catch (failure) {
      setError(failure as Error);
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };

  return html`<form class="card submit-form" data-testid="submit-form" noValidate onSubmit=${submit}>
    <h2>New job</h2>
    <div class="form-forms" role="radiogroup" aria-label="Command form">
      ${(['argv', 'shell'] as const).map(
        (form) => html`<label>
          <input type="radio" name="form" value=${form} checked=${values.form === form} onChange=${() => set({ form })} />
          ${form === 'argv' ? 'Program and arguments (no shell)' : 'Shell snippet'}
        </label>`,
      )}
    </div>
    <label class="form-field">
      <span class="muted">${values.form === 'argv' ? 'One entry a line, the program first' : 'Run as /bin/sh -c'}</span>
      <textarea
        name="command"
        class="mono"
        rows="4"
        spellcheck=${false}
        placeholder=${PLACEHOLDERS[values.form]}
        value=${values.command}
        onInput=${(e: Event) => set({ command: valueOf(e) })}
      ></textarea>
    </label>
    <div class="toolbar form-options">
      <label>
        priority
        <select name="priority" value=${values.priority} onChange=${(e: Event) => set({ priority: valueOf(e) as Priority })}>
          ${PRIORITIES.map((priority) => html`<option value=${priority}>${priority}</option>`)}
        </select>
      </label>
      <label>
        timeout (s)
        <input type="number" name="timeoutSeconds" step="1" placeholder="default" value=${values.timeoutSeconds} onInput=${(e: Event) => set({ timeoutSeconds: valueOf(e) })} />
      </label>
      <label>
        max attempts
        <input type="number" name="maxAttempts" step="1" placeholder="default" value=${values.maxAttempts} onInput=${(e: Event) => set({ maxAttempts: valueOf(e) })} />
      </label>
    </div>
    ${error ? html`<${ErrorBox} error=${error} title="The job was not submitted" />` : null}
    <div class="actions">
      <button type="submit" disabled=${busy}>${busy ? 'Submitting…' : 'Submit job'}</button>
      <button type="button" onClick=${onClose}>Cancel</button>
    </div>
  </form>`;
}
