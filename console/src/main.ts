import { render } from 'preact';
import { ApiError, errorOf } from './api/client.ts';
import { completeSignIn } from './auth/cognito.ts';
import { loadPersonas } from './auth/local.ts';
import { loadSession, type Session } from './auth/session.ts';
import { App, type AppProps } from './app.ts';
import { CONFIG_PATH, ConsoleConfigSchema, type ConsoleConfig } from './config.ts';
import { html } from './html.ts';
import './styles.css';

async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch(CONFIG_PATH, { cache: 'no-store' });
  if (!response.ok) throw await errorOf(response);
  const parsed = ConsoleConfigSchema.safeParse(await response.json());
  if (!parsed.success) throw new ApiError(response.status, 'UNEXPECTED_RESPONSE', `${CONFIG_PATH} is not a console configuration`);
  return parsed.data;
}

async function start(): Promise<AppProps> {
  const config = await loadConfig();
  if (config.auth.kind === 'local') {
    const personas = await loadPersonas();
    // A stored token the runtime no longer accepts (a new signing key) is refused at the first call: sign in again.
    const stored = loadSession();
    return { config, personas, ...(stored ? { initialSession: stored } : {}) };
  }
  const signedIn: Session | undefined = (await completeSignIn(config.auth)) ?? loadSession();
  return { config, ...(signedIn ? { initialSession: signedIn } : {}) };
}

const root = document.getElementById('app')!;
// preact renders beside what is already there: the loading note goes first.
const mount = (vnode: ReturnType<typeof html>) => (root.replaceChildren(), render(vnode, root));
start().then(
  (props) => mount(html`<${App} ...${props} />`),
  (error: unknown) => mount(html`<${App} config=${{ auth: { kind: 'local' } }} startupError=${error as Error} />`),
);
