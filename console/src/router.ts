import { useEffect, useState } from 'preact/hooks';
import { CONSOLE_BASE } from './config.ts';

export type Route =
  | { page: 'jobs' }
  | { page: 'job'; jobId: string }
  | { page: 'workers' }
  | { page: 'worker'; workerId: string }
  | { page: 'stats' }
  | { page: 'not-found'; path: string };

/** Real paths (`/console/jobs/job_…`), so a page can be bookmarked and shared; every one of them serves index.html. */
export function parseRoute(pathname: string): Route {
  const path = pathname.startsWith(CONSOLE_BASE) ? pathname.slice(CONSOLE_BASE.length) : pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'jobs')) return { page: 'jobs' };
  if (parts.length === 2 && parts[0] === 'jobs') return { page: 'job', jobId: parts[1]! };
  if (parts.length === 1 && parts[0] === 'workers') return { page: 'workers' };
  if (parts.length === 2 && parts[0] === 'workers') return { page: 'worker', workerId: parts[1]! };
  if (parts.length === 1 && parts[0] === 'stats') return { page: 'stats' };
  return { page: 'not-found', path: pathname };
}

export const paths = {
  jobs: (query?: URLSearchParams) => `${CONSOLE_BASE}/jobs${query?.size ? `?${query}` : ''}`,
  job: (jobId: string) => `${CONSOLE_BASE}/jobs/${encodeURIComponent(jobId)}`,
  workers: () => `${CONSOLE_BASE}/workers`,
  worker: (workerId: string) => `${CONSOLE_BASE}/workers/${encodeURIComponent(workerId)}`,
  stats: () => `${CONSOLE_BASE}/stats`,
};

const CHANGED = 'forgeflow:navigate';

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(CHANGED));
}

/** The current location, re-read on every navigation (links, back and forward). */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const read = () => ({ pathname: location.pathname, search: new URLSearchParams(location.search) });
  const [current, setCurrent] = useState(read);
  useEffect(() => {
    const update = () => setCurrent(read());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGED, update);
    };
  }, []);
  return current;
}

/** Client-side navigation for same-origin console links; modified clicks (new tab) keep the browser's behaviour. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(CONSOLE_BASE) || anchor.target) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
