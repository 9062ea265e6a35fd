import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Everything up to `sequenceNumber` is acknowledged; `done` once a closed shard is drained. */
export interface ShardCheckpoint {
  sequenceNumber?: string;
  done?: boolean;
}

/** Where the poller keeps its position. It passes the stream ARN so a store can refuse a recreated table's stale positions. */
export interface CheckpointStore {
  load(streamArn: string): Promise<Record<string, ShardCheckpoint>>;
  save(shardId: string, checkpoint: ShardCheckpoint, streamArn: string): Promise<void>;
}

type CheckpointFile = { version: 1; streams: Record<string, { updatedAt: string; shards: Record<string, ShardCheckpoint> }> };
const tableOf = (streamArn: string) => streamArn.split('/stream/')[0];

/**
 * Checkpoints in one JSON file keyed by stream ARN: a recreated table has a new stream ARN, so it starts at TRIM_HORIZON
 * instead of resuming from a sequence number of the old stream (whose entry is pruned). Writes are atomic (temp file,
 * fsync, rename) and serialised within the process; one file serves one poller process. `write` is for tests.
 */
export function fileCheckpointStore(path: string, write: (path: string, text: string) => Promise<void> = writeAtomically): CheckpointStore {
  let cache: CheckpointFile | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  // Shards save concurrently and each write must hold every shard's latest position: one write at a time.
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const next = tail.then(task);
    tail = next.catch(() => undefined);
    return next;
  };
  // Saves made while a write is under way share the next one (a save resolves once a write that holds it is on
  // disk): under load a poller writes its file once per write's duration, not once per batch, each with an fsync.
  const unwritten: ((file: CheckpointFile) => void)[] = [];
  let nextWrite: Promise<void> | undefined;
  const read = async (): Promise<CheckpointFile> => {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return { version: 1, streams: {} };
    const parsed = JSON.parse(text) as Partial<CheckpointFile>;
    if (parsed.version !== 1 || typeof parsed.streams !== 'object' || !parsed.streams) throw new Error(`${path} is not a version 1 checkpoint file`);
    return parsed as CheckpointFile;
  };
  const record = (file: CheckpointFile, shardId: string, checkpoint: ShardCheckpoint, streamArn: string) => {
    for (const arn of Object.keys(file.streams)) if (arn !== streamArn && tableOf(arn) === tableOf(streamArn)) delete file.streams[arn];
    const entry = (file.streams[streamArn] ??= { updatedAt: '', shards: {} });
    entry.shards[shardId] = { ...checkpoint };
    entry.updatedAt = new Date().toISOString();
  };
  return {
    load: (streamArn) =>
      serial(async () => {
        await removeOrphanedTemps(path);
        return structuredClone((cache = await read()).streams[streamArn]?.shards ?? {});
      }),
    save: (shardId, checkpoint, streamArn) => {
      unwritten.push((file) => record(file, shardId, checkpoint, streamArn));
      return (nextWrite ??= serial(async () => {
        nextWrite = undefined;
        const file = (cache ??= await read());
        for (const apply of unwritten.splice(0)) apply(file);
        await write(path, `${JSON.stringify(file, null, 2)}\n`);
      }));
    },
  };
}

/**
 * Checkpoints for a stream that ends with the process: tables kept in memory lose their streams at the stop, so a
 * position could never be resumed from, and writing it to disk (with its fsync) was 4% of the runtime's CPU under load.
 */
export function memoryCheckpointStore(): CheckpointStore {
  const streams = new Map<string, Record<string, ShardCheckpoint>>();
  return {
    load: async (streamArn) => structuredClone(streams.get(streamArn) ?? {}),
    save: async (shardId, checkpoint, streamArn) => {
      const shards = streams.get(streamArn) ?? {};
      shards[shardId] = { ...checkpoint };
      streams.set(streamArn, shards);
    },
  };
}

const TEMP_PID = /^\.(\d+)\.[0-9a-f-]{36}\.tmp$/;

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const handle = await openMakingFolder(temp);
    try {
      await handle.writeFile(text);
      await handle.sync(); // so a power cut cannot leave the renamed file empty
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Opens for writing, making the folder only when it is missing: a checkpoint is written many times a second under load. */
async function openMakingFolder(path: string) {
  try {
    return await open(path, 'w');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    return open(path, 'w');
  }
}

/**
 * A process killed mid-write (SIGKILL, a power cut) leaves its temporary file behind, and nothing else would ever remove
 * it: one per crash, accumulating. At load, the temporary files of processes that no longer run are removed; a live
 * writer's are left alone.
 */
async function removeOrphanedTemps(path: string): Promise<void> {
  const prefix = basename(path);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(prefix) ? TEMP_PID.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && !isRunning(Number(pid))) await rm(join(dirname(path), name), { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
