import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A job's own working directory when it runs as the job user: fresh per job, so that jobs of different tenants
 * sharing that user share no files through it, and removed afterwards so the disk does not fill up with them.
 */
export interface DirOwner {
  uid: number;
  gid: number;
}

export const WORK_DIR_PREFIX = 'forgeflow-job-';

/** mkdtemp under the OS temp directory (root-owned at first, so nobody can race us into it), then handed over. */
export async function createWorkDir(owner: DirOwner): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), WORK_DIR_PREFIX));
  try {
    await chmod(dir, 0o700);
    await chown(dir, owner.uid, owner.gid);
    return dir;
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

/**
 * Removes a job's directory with the job user's rights, not ours. The tree is the job's to shape: a process it
 * left behind (setsid escapes the group kill) can swap a subdirectory for a symlink to /etc between our lstat and
 * our unlink, and a recursive delete as root would then follow it. As the job user the worst case is deleting the
 * job user's own files. `chmod -R u+rwX` first, so a job cannot leave litter behind just by removing its write bits.
 *
 * A directory the job left empty, as most do, goes with one rmdir and no process: rmdir removes only an empty
 * directory and never follows a symlink, so it is safe as root, and a job that fills the directory meanwhile only
 * sends us the long way.
 *
 * Rejects when something is left; the caller logs it (it never fails the job, whose result is already known).
 */
export async function removeWorkDir(dir: string, owner: DirOwner): Promise<void> {
  if (await removedIfEmpty(dir)) return;
  const { code, stderr } = await runAs(owner, ['/bin/sh', '-c', 'chmod -R u+rwX -- "$1" 2>/dev/null; exec rm -rf -- "$1"', 'sh', dir]);
  // The job user may not be allowed to unlink the directory itself when TMPDIR is not a sticky, world-writable
  // directory like /tmp. rmdir only removes an empty directory and never follows a symlink, so it is safe as root.
  try {
    await rmdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    const detail = code === 0 ? '' : ` (rm exited with ${code}: ${stderr.trim().split('\n').slice(0, 3).join('; ')})`;
    throw new Error(`${dir} could not be removed: ${(error as Error).message}${detail}`, { cause: error });
  }
}

async function removedIfEmpty(dir: string): Promise<boolean> {
  try {
    await rmdir(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function runAs(owner: DirOwner, [file, ...args]: [string, ...string[]]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { uid: owner.uid, gid: owner.gid, stdio: ['ignore', 'ignore', 'pipe'], cwd: '/', env: { PATH: '/usr/bin:/bin', LANG: 'C' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}
