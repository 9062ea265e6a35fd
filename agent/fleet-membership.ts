import type { AgentIdentity, AgentInstruction, AgentRequest, AgentResponse } from '../functions/core/fleet/agent-protocol.ts';
import type { Agent } from './agent.ts';
import type { ControlPlane } from './control-plane.ts';
import type { AgentLogger } from './job.ts';
import { sleep } from './retry.ts';

export type MembershipEnd = 'drained' | 'released' | 'stopped';

export class RegistrationRefusedError extends Error {
  override name = 'RegistrationRefusedError';
}

export interface MembershipOptions {
  control: Pick<ControlPlane, 'call'>;
  identity: AgentIdentity;
  agent: Pick<Agent, 'runningJobIds' | 'idleSince' | 'drain' | 'releaseAll' | 'stats'>;
  logger: AgentLogger;
  now?: () => number;
  /** How long registration keeps trying; past the boot deadline the platform has given up on us anyway. */
  registerDeadlineMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * The agent as a member of a fleet: it registers (answering the provisioning saga), heartbeats what it runs, and
 * leaves in one of three ways. The platform says drain (finish the jobs, then go) or release (give the jobs back
 * at once: spot interruption, forced removal); or the agent, idle past the class's idle timeout and older than its
 * minimum running time, asks to leave, and goes only if the platform agrees (the class keeps its minimum). It
 * stops taking work before it asks nothing: a job received while it asks is simply finished before it goes.
 * Heartbeats go on while it drains, so the reaper never mistakes a draining worker for a lost one.
 */
export class FleetMembership {
  private instruction: AgentInstruction | undefined;
  private readonly startedAt: number;
  private readonly stopping = new AbortController();
  private refusedAt: number | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly options: MembershipOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.startedAt = this.now();
  }

  /** Registers, retrying what is retryable with capped backoff and jitter; a refusal is final. */
  async register(): Promise<AgentInstruction> {
    const deadline = this.now() + (this.options.registerDeadlineMs ?? 10 * 60_000);
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.signal.aborted) throw new RegistrationRefusedError('Stopped before registering');
      const answer = await this.options.control.call({ action: 'register', identity: this.options.identity });
      if (answer.ok) return (this.instruction = answer.instruction);
      if (!answer.retryable) throw new RegistrationRefusedError(`Registration refused (${answer.code}): ${answer.message}`);
      if (this.now() >= deadline) throw new RegistrationRefusedError(`Registration did not succeed before its deadline; last answer ${answer.code}: ${answer.message}`);
      this.options.logger.warn('registration not accepted yet; trying again', { code: answer.code, attempt });
      await this.sleep(Math.random() * Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** attempt), this.stopping.signal);
    }
  }

  /** Heartbeats until the agent has left (drained or released) or stop() was called; then says goodbye. */
  async run(): Promise<MembershipEnd> {
    let leaving: Promise<void> | undefined;
    let left = false;
    const leave = () => this.options.agent.drain({ timeoutSeconds: Number.POSITIVE_INFINITY }).then(() => void (left = true));
    let end: MembershipEnd = 'stopped';
    while (!this.stopping.signal.aborted && !left) {
      const instruction = (await this.heartbeat()) ?? this.instruction!;
      if (instruction.directive === 'release') {
        if (end !== 'released') this.options.agent.releaseAll();
        end = 'released';
        leaving ??= leave();
      } else if (instruction.directive === 'drain' || (!leaving && (await this.leaveIfIdle(instruction)))) {
        if (end === 'stopped') end = 'drained';
        leaving ??= leave();
      }
      // While leaving, the next heartbeat waits for the interval or the end of the drain, whichever comes first.
      const pause = this.sleep(instruction.heartbeatIntervalSeconds * 1000, this.stopping.signal);
      await (leaving ? Promise.race([leaving, pause]) : pause);
    }
    if (leaving) await this.goodbye();
    return end;
  }

  /** Ends the loop (a signal: the caller drains the agent itself). */
  stop(): void {
    this.stopping.abort();
  }

  /** Says goodbye after the caller drained on a signal, so the worker ends now rather than when the reaper notices. */
  async goodbye(): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const answer = await this.options.control.call({ action: 'goodbye', identity: this.options.identity });
      if (answer.ok || !answer.retryable) return;
      await this.sleep(500 * attempt);
    }
    this.options.logger.warn('goodbye not acknowledged; the reaper will end this worker');
  }

  private async heartbeat(): Promise<AgentInstruction | undefined> {
    const { identity, agent } = this.options;
    const answer = await this.send({ action: 'heartbeat', identity, runningJobIds: agent.runningJobIds(), stats: agent.stats() });
    return answer;
  }

  /** Idle long enough and old enough: ask to leave (once per idle timeout when refused). */
  private async leaveIfIdle(instruction: AgentInstruction): Promise<boolean> {
    const now = this.now();
    const idleSince = this.options.agent.idleSince();
    const idleMs = instruction.idleTimeoutSeconds * 1000;
    if (idleSince === undefined || now - idleSince < idleMs || now - this.startedAt < instruction.minRunningSeconds * 1000) return false;
    if (this.refusedAt !== undefined && now - this.refusedAt < idleMs) return false;
    const answer = await this.options.control.call({ action: 'requestDrain', identity: this.options.identity });
    if (answer.ok && answer.granted) {
      this.options.logger.info('idle: the platform agreed to let this worker go', { idleSeconds: Math.round((now - idleSince) / 1000) });
      return true;
    }
    this.refusedAt = now;
    return false;
  }

  private async send(request: AgentRequest): Promise<AgentInstruction | undefined> {
    const answer: AgentResponse = await this.options.control.call(request);
    if (answer.ok) return (this.instruction = answer.instruction);
    this.options.logger.warn(`${request.action} failed`, { code: answer.code, message: answer.message });
    // A refused identity (the worker ended, or was never ours): leave, giving any job back.
    if (!answer.retryable && this.instruction) return { ...this.instruction, directive: 'release' };
    return undefined;
  }
}
