import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_REGION, type LocalCredentials } from './dynamodb-local.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** DynamoDB Local keeps a database file per access key and region; the shared one had this name. */
const SHARED_DB_FILE = 'shared-local-instance.db';

const randomKey = (length: number) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/**
 * The access key of this home's DynamoDB Local: random, alphanumeric (all DynamoDB Local accepts), kept in a 0600
 * file. DynamoDB Local listens on loopback only (local/java/LoopbackDynamoDbLocal.java), but it answers CORS for any
 * origin and checks no signature, so any web page open on this machine could call it: the key is the secret that
 * stops that, as a client without it reaches an empty database of its own.
 *
 * Data written before keys were per home lives in the shared database file: it becomes this key's file, once.
 */
export function loadOrCreateLocalCredentials(home: string): LocalCredentials {
  const file = join(home, 'dynamodb-credentials.json');
  mkdirSync(home, { recursive: true });
  if (!existsSync(file)) {
    const credentials = { accessKeyId: `FF${randomKey(30)}`, secretAccessKey: randomKey(40) };
    try {
      writeFileSync(file, JSON.stringify(credentials), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another start made it first: use its key.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  const credentials = JSON.parse(readFileSync(file, 'utf8')) as LocalCredentials;
  adoptSharedDatabase(join(home, 'dynamodb'), credentials);
  return credentials;
}

function adoptSharedDatabase(dataDir: string, credentials: LocalCredentials): void {
  const shared = join(dataDir, SHARED_DB_FILE);
  const own = join(dataDir, `${credentials.accessKeyId}_${LOCAL_REGION}.db`);
  if (existsSync(shared) && !existsSync(own)) renameSync(shared, own);
}
