// Starting a container: rootfs, bundle, shim + runtime create, attach, runtime start.
import * as fsp from 'node:fs/promises';
import { BerthError, ConflictError, InvalidParameterError, NotModifiedError, errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { span } from '../../lib/trace';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, canStart, setRunning } from './Container';
import type { ContainerService } from './ContainerService';
import { writeContainerFiles } from './files';
import { buildSpecInput } from './spec';
import { resolveUser } from './user';
import { watchExit } from './exit';
import { removeLocked } from './remove';
import { rotationOf } from '../logs/options';

export async function startContainer(svc: ContainerService, ref: string): Promise<void> {
  const c = svc.store.get(ref);
  await svc.locks.run(c.Id, async () => {
    if (c.State.Running) throw new NotModifiedError();
    canStart(c);
    // A user start: a fresh restart manager, restart count 0 (Docker's ResetRestartManager).
    svc.restarts.reset(c.Id);
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    await startLocked(svc, c);
  });
}

export async function startLocked(svc: ContainerService, c: ContainerRecord): Promise<void> {
  const rt = runtimeOf(svc.config, c.HostConfig.Runtime);
  const dir = svc.store.dir(c.Id);
  const bundle = bundleDir(svc.config, c.Id);
  let created = false;
  try {
    const rootfs = await span('start.mount', c.Id, () => svc.rootfs.mount(c.Id));
    const [user] = await span('start.prepare', c.Id, () => Promise.all([
      resolveUser(rootfs, c.Config.User, (c.HostConfig.GroupAdd as string[] | null) ?? []),
      writeContainerFiles(dir, c),
    ]));
    const input = buildSpecInput(c, {
      rootfs, containerDir: dir, user, cgroupParent: svc.config.cgroupParent, initPath: svc.config.initPath,
      swapLimitSupported: svc.deps.swapLimitSupported, resolveContainerPid: (r) => pidOf(svc, r),
    });
    await span('start.bundle', c.Id, () => svc.runtime.writeBundle(bundle, input));
    const { pid } = await span('start.create', c.Id, () => svc.runtime.create({
      id: c.Id, bundleDir: bundle, runtime: rt, terminal: c.Config.Tty, openStdin: c.Config.OpenStdin,
      // As Docker: a TTY's stdin is never closed by a client leaving (detach keeps the shell alive).
      stdinOnce: c.Config.StdinOnce && !c.Config.Tty, logPath: svc.logPath(c.Id),
      logDriver: c.HostConfig.LogConfig?.Type === 'none' ? 'none' : 'k8s-file',
      logRotation: rotationOf(c.HostConfig.LogConfig?.Type || 'json-file', c.HostConfig.LogConfig?.Config ?? {}),
    }));
    created = true;
    await span('start.attach', c.Id, () => svc.attaches.connectPending(c.Id, svc.runtime));
    await span('start.start', c.Id, () => svc.runtime.start(c.Id, rt));
    setRunning(c, pid);
    c.HasBeenManuallyStopped = false;
    await span('start.save', c.Id, () => svc.store.save(c));
  } catch (e) {
    const msg = errorMessage(e);
    log.debug('start failed', { id: c.Id, error: msg });
    if (created) await svc.runtime.delete(c.Id, rt, true).catch(() => undefined);
    await svc.runtime.cleanup(c.Id).catch(() => undefined);
    await svc.rootfs.unmount(c.Id).catch(() => undefined);
    await fsp.rm(bundle, { recursive: true, force: true }).catch(() => undefined);
    svc.attaches.endPending(c.Id);
    const isRuntimeError = !(e instanceof BerthError) || e.kind === 'System' || e.kind === 'InvalidParameter';
    const text = e instanceof BerthError && e.kind === 'InvalidParameter' && !/OCI runtime/.test(msg)
      ? msg : `failed to create task: OCI runtime create failed: ${msg.replace(/: unknown$/, '')}: unknown`;
    const exitCode = exitCodeForStartError(msg);
    c.State.ExitCode = exitCode;
    c.State.Error = text;
    await svc.store.save(c).catch(() => undefined);
    svc.monitor.notifyExit(c.Id, { exitCode, error: text });
    if (c.HostConfig.AutoRemove) await removeLocked(svc, c).catch(() => undefined);
    if (isRuntimeError) throw new InvalidParameterError(text, { cause: e });
    throw e;
  }
  svc.publish(c, 'start');
  watchExit(svc, c);
  svc.lifecycle.emit('started', c);
}

export function pidOf(svc: ContainerService, ref: string): number {
  const other = svc.store.get(ref);
  if (!other.State.Running) throw new ConflictError(`cannot join namespace of a non running container ${other.Id}`);
  return other.State.Pid;
}

/** Docker's start-error text → exit code mapping (the CLI reads the same phrases). */
export function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied/.test(msg)) return 126;
  return 128;
}
