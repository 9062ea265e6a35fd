import type { Session } from '../auth/session.ts';
import { html } from '../html.ts';

/** What a token makes its bearer: tenant and groups, as the API will read them. */
export function describeIdentity(session: Session): string {
  const { tenant, groups } = session.identity;
  return `tenant ${tenant ?? '(none)'}${groups.length ? ` · ${groups.join(', ')}` : ''}`;
}

export interface PersonaPickerProps {
  personas: Session[];
  current?: Session;
  onPick: (session: Session) => void;
}

/** The local runtime's personas (admin, user, other), switchable at any time: one tab, one persona. */
export function PersonaPicker({ personas, current, onPick }: PersonaPickerProps) {
  return html`<label class="persona">
    <span class="muted">acting as</span>
    <select
      name="persona"
      data-testid="persona"
      value=${current?.label ?? ''}
      onChange=${(e: Event) => {
        const picked = personas.find((p) => p.label === (e.target as HTMLSelectElement).value);
        if (picked) onPick(picked);
      }}
    >
      ${current ? null : html`<option value="">choose…</option>`}
      ${current && !personas.some((p) => p.label === current.label) ? html`<option value=${current.label}>${current.label} (${describeIdentity(current)})</option>` : null}
      ${personas.map((p) => html`<option value=${p.label}>${p.label} (${describeIdentity(p)})</option>`)}
    </select>
  </label>`;
}

export interface SignInProps {
  personas?: Session[];
  onPick: (session: Session) => void;
  onCognito?: () => void;
  reason?: string;
}

/** Before any token: the personas locally, the hosted UI in AWS. */
export function SignIn({ personas, onPick, onCognito, reason }: SignInProps) {
  return html`<section class="sign-in card">
    <h1>Forgeflow console</h1>
    ${reason ? html`<p class="notice">${reason}</p>` : null}
    ${personas
      ? html`<p>Pick who to act as. These are the tokens <code>npm start</code> wrote for this machine.</p>
          <ul class="personas">
            ${personas.map(
              (p) => html`<li>
                <button type="button" data-testid=${`sign-in-${p.label}`} onClick=${() => onPick(p)}>${p.label}</button>
                <span class="muted">${describeIdentity(p)}</span>
              </li>`,
            )}
          </ul>`
      : html`<p>Sign in with your Forgeflow account.</p>
          <button type="button" data-testid="sign-in-cognito" onClick=${onCognito}>Sign in</button>`}
  </section>`;
}
