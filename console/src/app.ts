import { useEffect, useMemo, useState } from 'preact/hooks';
import { seesFleet } from '../../functions/core/roles.ts';
import { configureClient } from './api/client.ts';
import { beginSignIn, signOut } from './auth/cognito.ts';
import { actorOf, saveSession, type Session } from './auth/session.ts';
import { ErrorBox } from './components/common.ts';
import { describeIdentity, PersonaPicker, SignIn } from './components/identity.ts';
import type { ConsoleConfig } from './config.ts';
import { html } from './html.ts';
import { JobPage } from './pages/job.ts';
import { JobsPage } from './pages/jobs.ts';
import { StatsPage } from './pages/stats.ts';
import { WorkerPage } from './pages/worker.ts';
import { WorkersPage } from './pages/workers.ts';
import { onLinkClick, parseRoute, paths, useLocation, type Route } from './router.ts';

export interface AppProps {
  config: ConsoleConfig;
  initialSession?: Session;
  /** The local runtime's personas; absent with Cognito. */
  personas?: Session[];
  startupError?: Error;
}

function Page({ route, session, search }: { route: Route; session: Session; search: URLSearchParams }) {
  const actor = actorOf(session);
  switch (route.page) {
    case 'jobs':
      return html`<${JobsPage} search=${search} />`;
    case 'job':
      return html`<${JobPage} key=${route.jobId} jobId=${route.jobId} actor=${actor} />`;
    case 'workers':
      return html`<${WorkersPage} actor=${actor} />`;
    case 'worker':
      return html`<${WorkerPage} key=${route.workerId} workerId=${route.workerId} actor=${actor} />`;
    case 'stats':
      return html`<${StatsPage} actor=${actor} />`;
    default:
      return html`<section><h1>Not found</h1><p>Nothing lives at <code>${route.path}</code>. <a href=${paths.jobs()}>Go to the jobs</a>.</p></section>`;
  }
}

export function App({ config, initialSession, personas, startupError }: AppProps) {
  const [session, setSession] = useState<Session | undefined>(initialSession);
  const [refused, setRefused] = useState<string | undefined>();
  const { pathname, search } = useLocation();
  const route = parseRoute(pathname);

  // Set during render, before any page's effect sends a request with it.
  useMemo(
    () =>
      configureClient(
        () => session?.token,
        () => {
          saveSession(undefined);
          setSession(undefined);
          setRefused('The API refused the token (expired or not valid): sign in again.');
        },
      ),
    [session],
  );
  useEffect(() => saveSession(session), [session]);

  const pick = (next: Session) => {
    setRefused(undefined);
    setSession(next);
  };
  const cognito = config.auth.kind === 'cognito' ? config.auth : undefined;

  if (startupError) return html`<main class="content"><${ErrorBox} error=${startupError} title="The console could not start" /></main>`;
  if (!session) {
    return html`<main class="content">
      <${SignIn} personas=${personas} onPick=${pick} onCognito=${cognito ? () => void beginSignIn(cognito) : undefined} reason=${refused} />
    </main>`;
  }
  const nav = (href: string, label: string, active: boolean) => html`<a href=${href} class=${active ? 'active' : ''}>${label}</a>`;
  return html`<div class="shell" onClick=${onLinkClick}>
    <header class="top">
      <a class="brand" href=${paths.jobs()}>Forgeflow</a>
      <nav class="nav">
        ${nav(paths.jobs(), 'Jobs', route.page === 'jobs' || route.page === 'job')}
        ${seesFleet(actorOf(session)) ? nav(paths.workers(), 'Workers', route.page === 'workers' || route.page === 'worker') : null}
        ${nav(paths.stats(), 'Stats', route.page === 'stats')}
      </nav>
      <div class="who" data-testid="who">
        ${personas
          ? html`<${PersonaPicker} personas=${personas} current=${session} onPick=${pick} />`
          : html`<span>${session.label} <span class="muted">${describeIdentity(session)}</span></span>
              <button type="button" class="link" onClick=${() => (saveSession(undefined), cognito && signOut(cognito))}>Sign out</button>`}
      </div>
    </header>
    <main class="content"><${Page} route=${route} session=${session} search=${search} /></main>
  </div>`;
}
