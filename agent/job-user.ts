import { readFileSync } from 'node:fs';

/**
 * The unprivileged user that job processes run as (`--job-user`), resolved once at start.
 *
 * Without it a job runs with the agent's identity: it can read the agent's environment and memory through /proc
 * and act with its AWS credentials (take other tenants' dispatch messages, forge results). A job user other than
 * the agent's, and not root, closes that; switching to it needs the agent to be root (CAP_SETUID/CAP_SETGID).
 *
 * Only /etc/passwd is read (no NSS, no `getent`): the job user is meant to be a local system account created with
 * the image (e.g. `useradd --system --no-create-home --shell /usr/sbin/nologin forgeflow-job`), and a directory
 * service being down must not change who jobs run as.
 */
export interface JobUser {
  uid: number;
  gid: number;
  name: string;
  home: string;
}

export class JobUserError extends Error {
  override name = 'JobUserError';
}

/** What resolution asks the system; injectable so every refusal can be tested without changing identity. */
export interface JobUserSystem {
  /** The agent's uid; undefined where there are no uids (Windows). */
  getuid?: () => number | undefined;
  /** The contents of /etc/passwd. */
  readPasswd?: () => string;
}

export const PASSWD_PATH = '/etc/passwd';

export function resolveJobUser(spec: string, system: JobUserSystem = {}): JobUser {
  const getuid = system.getuid ?? (() => process.getuid?.());
  const user = findUser(spec, readPasswd(system));
  if (!user) throw new JobUserError(`job user "${spec}" does not exist in ${PASSWD_PATH}; create a dedicated unprivileged user for jobs.`);
  const named = `job user "${user.name}" (uid ${user.uid})`;
  if (user.uid === 0) throw new JobUserError(`${named} is root; jobs must run as a dedicated unprivileged user.`);
  // Group 0 would let jobs read whatever is group-readable by root (keys, agent files) even under another uid.
  if (user.gid === 0) throw new JobUserError(`${named} has the root group (gid 0) as its primary group; give it its own group.`);
  const agentUid = getuid();
  if (user.uid === agentUid) throw new JobUserError(`${named} is the agent's own user, so jobs could act as the agent; choose another user.`);
  if (agentUid !== 0) throw new JobUserError(`the agent runs as uid ${agentUid ?? 'unknown'}, not root, so it cannot run jobs as ${named}; run the agent as root or leave the job user unset.`);
  return user;
}

function readPasswd(system: JobUserSystem): string {
  try {
    return system.readPasswd ? system.readPasswd() : readFileSync(PASSWD_PATH, 'utf8');
  } catch (error) {
    throw new JobUserError(`cannot read ${PASSWD_PATH} to resolve the job user: ${(error as Error).message}.`);
  }
}

/** A name wins over a numeric uid, as in `id` and `chown`: a user may be called "1000". */
function findUser(spec: string, passwd: string): JobUser | undefined {
  const users = parsePasswd(passwd);
  const byName = users.find((user) => user.name === spec);
  if (byName || !/^\d+$/.test(spec)) return byName;
  return users.find((user) => user.uid === Number(spec));
}

/** `name:password:uid:gid:gecos:home:shell` lines; comments, NIS `+`/`-` entries and malformed lines are skipped. */
export function parsePasswd(text: string): JobUser[] {
  const users: JobUser[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7 || /^[#+-]/.test(line)) continue;
    const [name, , uid, gid, , home] = fields as [string, string, string, string, string, string];
    if (!name || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    users.push({ name, uid: Number(uid), gid: Number(gid), home });
  }
  return users;
}
