import { spawn, type ChildProcess } from 'node:child_process';
import type { InstanceSummary, LaunchedInstance, LaunchRequest, ResolvedImage, WorkerProvider } from '../../functions/core/fleet/ports.ts';
import type { ResolvedWorkerClass } from '../../functions/declarations/worker-classes.ts';
import { AGENT_FLEET_ENV } from '../../functions/declarations/workers.ts';
import { currentAgentBundle } from './agent-bundle.ts';

export interface LocalProviderOptions {
  /** What every agent gets: queue URLs, endpoints, credentials, the control function: as an EC2 worker's env file. */
  env: () => Record<string, string>;
  log: (message: string) => void;
  /** SIGTERM → SIGKILL grace when an instance is terminated (EC2 gives the OS its shutdown, then pulls the plug). */
  terminateGraceMs?: number;
}

interface LocalInstance {
  summary: InstanceSummary;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Workers on this machine: an "instance" is an agent process (`local-N`), started with the environment an EC2
 * worker's bootstrap writes, tagged (in memory) with its worker id. The platform launches, describes and
 * terminates them exactly as it does EC2 instances; when the runtime dies, its pipe to each agent closes and the
 * agents drain and exit (FORGEFLOW_EXIT_WITH_PARENT), so none outlives it.
 */
export class LocalWorkerProvider implements WorkerProvider {
  private readonly instances = new Map<string, LocalInstance>();
  private next = 1;

  constructor(private readonly options: LocalProviderOptions) {}

  async resolveImage(workerClass: ResolvedWorkerClass, amiName: string): Promise<ResolvedImage> {
    // Locally every AMI name of the class runs this checkout's agent; the name is kept so records read the same.
    if (!(amiName in workerClass.amis)) throw new Error(`Worker class "${workerClass.name}" has no AMI named "${amiName}"`);
    return { amiName, amiId: 'local', rootDeviceName: 'local' };
  }

  async launch(request: LaunchRequest): Promise<LaunchedInstance> {
    const instanceId = `local-${this.next++}`;
    const agent = await currentAgentBundle();
    const child = spawn(process.execPath, [agent], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: {
        ...process.env,
        ...this.options.env(),
        FORGEFLOW_WORKER_ID: request.workerId,
        FORGEFLOW_WORKER_CLASS: request.workerClass.name,
        FORGEFLOW_CONCURRENCY: String(request.workerClass.slotsPerWorker),
        [AGENT_FLEET_ENV.instanceIdentity]: 'local',
        FORGEFLOW_INSTANCE_ID: instanceId,
        FORGEFLOW_EXIT_WITH_PARENT: '1',
      },
    });
    const summary: InstanceSummary = { instanceId, workerId: request.workerId, state: 'running', launchedAt: new Date().toISOString() };
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        summary.state = 'terminated';
        if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') this.options.log(`${instanceId} (${request.workerId}) exited (${code ?? signal})`);
        resolve();
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.options.log(`${instanceId}: ${line.trim()}`);
    });
    this.instances.set(instanceId, { summary, child, exited });
    return { instanceId, instanceType: 'local', availabilityZone: 'local', market: 'on-demand' };
  }

  /** Like EC2: the call returns once the instances are shutting down, not once they are gone. */
  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (const id of instanceIds) void this.stopInstance(id);
  }

  async listInstances(): Promise<InstanceSummary[]> {
    return [...this.instances.values()].map((i) => i.summary).filter((s) => s.state !== 'terminated');
  }

  async describe(instanceId: string): Promise<InstanceSummary | undefined> {
    return this.instances.get(instanceId)?.summary;
  }

  /** The pid of an instance's agent, for tests that kill it the hard way. */
  pidOf(instanceId: string): number | undefined {
    return this.instances.get(instanceId)?.child.pid;
  }

  /** Starts an agent process no worker record knows: what the reaper must find and end (tests). */
  async launchStray(request: LaunchRequest): Promise<string> {
    return (await this.launch(request)).instanceId;
  }

  /** Stops every agent: SIGTERM (they drain), SIGKILL after the grace. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((id) => this.stopInstance(id)));
  }

  private async stopInstance(instanceId: string): Promise<void> {
    const instance = this.instances.get(instanceId);
    if (!instance) return;
    if (instance.summary.state !== 'running') return instance.exited;
    instance.summary.state = 'shutting-down';
    const timer = setTimeout(() => instance.child.kill('SIGKILL'), this.options.terminateGraceMs ?? 8000);
    instance.child.kill('SIGTERM');
    await instance.exited;
    clearTimeout(timer);
  }
}
