// Health checks: Config.Healthcheck probes run as exec sessions on their schedule while a
// container runs; the outcome is State.Health (Docker's shape) and `health_status: X` events.
import { errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import type { ContainerRecord } from '../containers/Container';
import type { HealthMonitor } from '../containers/context';
import type { ImageLookup } from '../containers/ports';
import { publishContainerEvent } from '../containers/publish';
import type { EventBus } from '../events/EventBus';

export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;     // ns
  Timeout?: number;      // ns
  StartPeriod?: number;  // ns
  StartInterval?: number; // ns
  Retries?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }

export interface HealthState { Status: HealthStatus; FailingStreak: number; Log: HealthResult[] }

const NS_PER_MS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** The container's State.Health, if it has one. */
export function healthOf(c: ContainerRecord): HealthState | undefined {
  return (c.State as { Health?: HealthState }).Health;
}

function setHealth(c: ContainerRecord, h: HealthState): void {
  (c.State as { Health?: HealthState }).Health = h;
}

/** `Up 5 seconds (healthy)`, `(health: starting)`: the words ps shows after the uptime. */
export function healthSuffix(c: ContainerRecord): string {
  const h = healthOf(c);
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

/** Go duration text for a timeout message: "30s", "1.5s", "500ms". */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m0s`;
  return `${ms / 1000}s`;
}

function nsToMs(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && v > 0 ? Math.max(1, Math.round(v / NS_PER_MS)) : dflt;
}

interface Monitor {
  timer?: NodeJS.Timeout;
  stopped: boolean;
  startedAt: number;
}

/** A probe: the command run to completion in the container (an exec session). */
export type ProbeRunner = (containerId: string, cmd: string[], timeoutMs: number, maxOutput: number) =>
  Promise<{ exitCode: number; output: string; timedOut: boolean }>;

export interface HealthDeps {
  images: ImageLookup;
  events: EventBus;
  probe: ProbeRunner;
}

/** Started and stopped by the containers' supervisor: at each start, adoption and exit. */
export class HealthService implements HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();

  constructor(private readonly deps: HealthDeps) {}

  /** The effective check: the container's, with the image's filling what it leaves out. */
  private async configOf(c: ContainerRecord): Promise<HealthConfig | undefined> {
    const own = (c.Config.Healthcheck ?? undefined) as HealthConfig | undefined;
    let image: HealthConfig | undefined;
    if (!own || !own.Test || own.Test.length === 0 || !own.Interval || !own.Timeout || !own.Retries || !own.StartPeriod) {
      try {
        image = (await this.deps.images.resolve(c.Image)).config.config?.Healthcheck as HealthConfig | undefined;
      } catch { /* image gone: the container's own config only */ }
    }
    if (!own) return image;
    if (!image) return own;
    return {
      Test: own.Test && own.Test.length > 0 ? own.Test : image.Test,
      Interval: own.Interval || image.Interval,
      Timeout: own.Timeout || image.Timeout,
      StartPeriod: own.StartPeriod || image.StartPeriod,
      StartInterval: own.StartInterval || image.StartInterval,
      Retries: own.Retries || image.Retries,
    };
  }

  async start(c: ContainerRecord): Promise<void> {
    this.stop(c, false);
    const cfg = await this.configOf(c);
    const test = cfg?.Test ?? [];
    if (!cfg || test.length === 0 || test[0] === 'NONE') return;
    if (!c.State.Running) return;
    const prev = healthOf(c);
    setHealth(c, { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [] });
    const m: Monitor = { stopped: false, startedAt: Date.now() };
    this.monitors.set(c.Id, m);
    this.schedule(c, cfg, m);
  }

  stop(c: ContainerRecord, exited: boolean): void {
    const m = this.monitors.get(c.Id);
    if (m) {
      m.stopped = true;
      if (m.timer) clearTimeout(m.timer);
      this.monitors.delete(c.Id);
    }
    const h = healthOf(c);
    if (exited && h) h.Status = 'unhealthy';
  }

  private schedule(c: ContainerRecord, cfg: HealthConfig, m: Monitor): void {
    if (m.stopped) return;
    const startPeriodMs = nsToMs(cfg.StartPeriod, 0);
    const inStart = Date.now() - m.startedAt < startPeriodMs && healthOf(c)?.Status === 'starting';
    const wait = inStart && cfg.StartInterval ? nsToMs(cfg.StartInterval, DEFAULT_START_INTERVAL_MS) : nsToMs(cfg.Interval, DEFAULT_INTERVAL_MS);
    m.timer = setTimeout(() => {
      this.probe(c, cfg, m).catch((e) => log.warn('health probe failed', { id: c.Id, error: errorMessage(e) }))
        .finally(() => this.schedule(c, cfg, m));
    }, wait);
    m.timer.unref();
  }

  private command(c: ContainerRecord, test: string[]): string[] | undefined {
    if (test[0] === 'CMD') return test.slice(1);
    if (test[0] === 'CMD-SHELL') {
      const shell = Array.isArray(c.Config.Shell) && c.Config.Shell.length > 0 ? (c.Config.Shell as string[]) : ['/bin/sh', '-c'];
      return [...shell, test.slice(1).join(' ')];
    }
    return undefined;
  }

  private async probe(c: ContainerRecord, cfg: HealthConfig, m: Monitor): Promise<void> {
    const timeoutMs = nsToMs(cfg.Timeout, DEFAULT_TIMEOUT_MS);
    const start = new Date();
    let result: HealthResult;
    const cmd = this.command(c, cfg.Test ?? []);
    if (!cmd || cmd.length === 0) {
      result = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: `unknown health check type ${JSON.stringify((cfg.Test ?? [])[0] ?? '')}` };
    } else {
      try {
        const r = await this.deps.probe(c.Id, cmd, timeoutMs, MAX_OUTPUT);
        result = {
          Start: start.toISOString(), End: new Date().toISOString(),
          ExitCode: r.timedOut ? -1 : r.exitCode,
          Output: r.timedOut ? `Health check exceeded timeout (${goDuration(timeoutMs)})` : r.output,
        };
      } catch (e) {
        result = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: errorMessage(e) };
      }
    }
    if (m.stopped) return;
    this.record(c, cfg, m, result);
  }

  private record(c: ContainerRecord, cfg: HealthConfig, m: Monitor, result: HealthResult): void {
    const h = healthOf(c) ?? { Status: 'starting' as HealthStatus, FailingStreak: 0, Log: [] };
    const old = h.Status;
    h.Log = [...h.Log, result].slice(-MAX_LOG_ENTRIES);
    if (result.ExitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      const inStartPeriod = Date.now() - m.startedAt < nsToMs(cfg.StartPeriod, 0);
      // Failures during the start period do not count while the container is still starting.
      if (!(inStartPeriod && h.Status === 'starting')) {
        h.FailingStreak++;
        if (h.FailingStreak >= (cfg.Retries && cfg.Retries > 0 ? cfg.Retries : DEFAULT_RETRIES)) h.Status = 'unhealthy';
      }
    }
    setHealth(c, h);
    if (h.Status !== old) publishContainerEvent(this.deps.events, c, `health_status: ${h.Status}`);
  }
}
