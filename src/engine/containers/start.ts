// Starting a container's task: rootfs, attachments, bundle, shim + runtime create, attach,
// runtime start. What follows (following the exit, health, auto-remove of a failed start) is
// the supervisor's.
import * as fsp from 'node:fs/promises';
import { BerthError, ConflictError, InvalidParameterError, NotModifiedError, errorMessage } from '../../lib/errors';
import { log } from '../../lib/log';
import { span } from '../../lib/trace';
import { bundleDir, runtimeOf } from '../config';
import { type ContainerRecord, type ContainerState, canStart, setRunning } from './Container';
import { crashPoint, pausePoint } from '../../lib/crashpoint';
import type { ContainerContext } from './context';
import { buildSpecInput } from './spec';
import { resolveUser } from './user';
import { makeDanglingMountTargets, makeWorkingDir } from './workdir';
import { inContainerTerms } from './hostPaths';
import { rotationOf } from '../logs/options';
import { remapOf, rootfsMountOptions, usernsFile } from '../usernsRemap';
import { precompiledSeccomp } from '../../runtime/seccompBpf';
import { taskStarting } from './exit';
import type { StagedTask } from '../../runtime/types';

export type StartContext = Pick<ContainerContext,
  'config' | 'store' | 'runtime' | 'rootfs' | 'attaches' | 'attachments' | 'monitor' | 'swapLimitSupported' | 'publish' | 'logPath' | 'earlyStarts'>;

/** `docker start`: a user start is a fresh one (restart count 0, back-off forgotten). */
export async function startContainer(ctx: Pick<ContainerContext, 'store' | 'locks' | 'restarts' | 'supervisor'>, ref: string): Promise<void> {
  const c = ctx.store.get(ref);
  await ctx.locks.run(c.Id, async () => {
    if (c.State.Running) throw new NotModifiedError();
    canStart(c);
    // Docker's ResetRestartManager.
    ctx.restarts.reset(c.Id);
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    await ctx.supervisor.launch(c);
  });
}

/**
 * A start's steps before the runtime's create: the shim staged, the rootfs mounted, the
 * attachments prepared, the bundle written (`done`: the staged task once all are). What was
 * made is recorded as it goes, for undoPrepared.
 */
export interface PreparedTask {
  done: Promise<StagedTask>;
  staged: Promise<StagedTask>;
  /** The attachments were prepared (to be released on an undo). */
  attached: boolean;
  /** It was an attachment that failed (its error is its own). */
  attachmentFailed: boolean;
}

/** Starts a start's steps up to the bundle; call with the container's lock held. */
export function prepareTask(ctx: StartContext, c: ContainerRecord): PreparedTask {
  const rt = runtimeOf(ctx.config, c.HostConfig.Runtime);
  const bundle = bundleDir(ctx.config, c.Id);
  taskStarting(c);
  // The shim is started first and waits (conmon's start pipe): its exec and load overlap the
  // mount, the attachments and the bundle below; it runs the runtime once the bundle is written.
  const staged = span('start.stage', c.Id, () => ctx.runtime.stageCreate({
    id: c.Id, bundleDir: bundle, runtime: rt, terminal: c.Config.Tty, openStdin: c.Config.OpenStdin,
    // As Docker: a TTY's stdin is never closed by a client leaving (detach keeps the shell alive).
    stdinOnce: c.Config.StdinOnce && !c.Config.Tty, logPath: ctx.logPath(c.Id),
    logDriver: c.HostConfig.LogConfig?.Type === 'none' ? 'none' : 'k8s-file',
    logRotation: rotationOf(c.HostConfig.LogConfig?.Type || 'json-file', c.HostConfig.LogConfig?.Config ?? {}),
  }));
  // (A crash with conmon waiting: it reads the pipe's end and goes on; see stageConmon.)
  staged.then(() => crashPoint('container.start.after-stage'), () => undefined);
  const p: PreparedTask = { staged, attached: false, attachmentFailed: false, done: undefined as unknown as Promise<StagedTask> };
  p.done = (async () => {
    const rootfs = await span('start.mount', c.Id, () => ctx.rootfs.mount(c.Id, rootfsMountOptions(c, ctx.config.remap)));
    const [user, prepared] = await span('start.prepare', c.Id, async () => {
      const [u, a] = await Promise.allSettled([
        // Docker's SetupWorkingDirectory: the working dir is made inside the root before start.
        Promise.all([
          resolveUser(rootfs, c.Config.User, (c.HostConfig.GroupAdd as string[] | null) ?? []),
          makeWorkingDir(rootfs, c.Config.WorkingDir, remapOf(c, ctx.config.remap)?.root),
          makeDanglingMountTargets(rootfs, c.MountPoints ?? [], remapOf(c, ctx.config.remap)?.root),
        ]).then(([user]) => user),
        ctx.attachments.prepare(c),
      ]);
      p.attached = a.status === 'fulfilled';
      if (a.status === 'rejected') { p.attachmentFailed = true; throw a.reason; }
      if (u.status === 'rejected') throw u.reason;
      return [u.value, a.value] as const;
    });
    const input = buildSpecInput(c, {
      rootfs, user, mounts: prepared.mounts, cgroupParent: ctx.config.cgroupParent, initPath: ctx.config.initPath,
      swapLimitSupported: ctx.swapLimitSupported, resolveContainerPid: (r) => pidOf(ctx, r), security: ctx.config,
      netnsPath: prepared.netnsPath, extraEnv: prepared.env, remap: ctx.config.remap, usernsPath: usernsFile(ctx.config.execRoot, c.Id),
    });
    input.seccompBpf = await span('start.seccomp', c.Id, () => precompiledSeccomp(input.seccomp, rt));
    await span('start.bundle', c.Id, () => ctx.runtime.writeBundle(bundle, input));
    const task = await staged;
    crashPoint('container.start.after-bundle');
    return task;
  })();
  return p;
}

/**
 * Undoes a start's steps (in the reverse order): the task if `created`, else the waiting shim;
 * the shim's files, the bundle, the attachments, the rootfs. Call with the lock held.
 */
export async function undoPrepared(ctx: StartContext, c: ContainerRecord, p: PreparedTask, created = false): Promise<void> {
  await p.done.catch(() => undefined);
  if (created) await ctx.runtime.delete(c.Id, runtimeOf(ctx.config, c.HostConfig.Runtime), true).catch(() => undefined);
  else await p.staged.then((t) => t.abort(), () => undefined);
  await ctx.runtime.cleanup(c.Id).catch(() => undefined);
  await fsp.rm(bundleDir(ctx.config, c.Id), { recursive: true, force: true }).catch(() => undefined);
  if (p.attached) await ctx.attachments.release(c, 'abort');
  await ctx.rootfs.unmount(c.Id).catch(() => undefined);
}

/**
 * Starts the task; call with the container's lock held. A failure undoes every step already
 * taken (in reverse order), records the error in the state, wakes exit waiters and throws.
 * The steps before the runtime's create may have been taken ahead (earlyStart.ts).
 */
export async function startTask(ctx: StartContext, c: ContainerRecord): Promise<void> {
  const rt = runtimeOf(ctx.config, c.HostConfig.Runtime);
  let created = false;
  let stateBefore: ContainerState | undefined;
  const prepared = (await ctx.earlyStarts?.take(c)) ?? prepareTask(ctx, c);
  try {
    const task = await prepared.done;
    const { pid } = await span('start.create', c.Id, () => task.create());
    created = true;
    // The record says running before the runtime's start, written beside the attach and the
    // start (the write is the longest of the three), and the client is answered once all are
    // done. A crash before the start leaves a running record over a task that is only
    // created: reconcile exits it (the task is deleted) as any running record whose task does
    // not run. A crash after the start and before the write leaves a created record over a
    // running task: reconcile deletes such orphans (restoreContainers).
    stateBefore = { ...c.State };
    setRunning(c, pid);
    c.HasBeenManuallyStopped = false;
    const saved = span('start.save', c.Id, () => pausePoint('container.start.before-save').then(() => ctx.store.save(c)));
    // (A failed start's own record write below comes after this one: the store orders them.)
    saved.then(() => crashPoint('container.start.after-save'), () => undefined);
    await span('start.attach', c.Id, () => ctx.attaches.connectPending(c.Id, ctx.runtime));
    await span('start.start', c.Id, () => ctx.runtime.start(c.Id, rt));
    crashPoint('container.start.after-start');
    await saved;
  } catch (e) {
    if (stateBefore) Object.assign(c.State, stateBefore);
    const rootfs = await Promise.resolve().then(() => ctx.rootfs.mountInfo(c.Id)).then((m) => m.mergedDir, () => undefined);
    const msg = inContainerTerms(errorMessage(e), { rootfs, mounts: c.MountPoints });
    log.debug('start failed', { id: c.Id, error: msg });
    await undoPrepared(ctx, c, prepared, created);
    ctx.attaches.endPending(c.Id);
    // An attachment's error is its own (the runner names the attachment), not the runtime's.
    const attachmentFailed = prepared.attachmentFailed;
    const isRuntimeError = !attachmentFailed && (!(e instanceof BerthError) || e.kind === 'System' || e.kind === 'InvalidParameter');
    const text = attachmentFailed || (e instanceof BerthError && e.kind === 'InvalidParameter' && !/OCI runtime/.test(msg))
      ? msg : `failed to create task: OCI runtime create failed: ${msg.replace(/: unknown$/, '')}: unknown`;
    const exitCode = exitCodeForStartError(msg);
    c.State.ExitCode = exitCode;
    c.State.Error = text;
    await ctx.store.save(c).catch(() => undefined);
    ctx.monitor.notifyExit(c.Id, { exitCode, error: text });
    if (isRuntimeError) throw new InvalidParameterError(text, { cause: e });
    throw e;
  }
  ctx.publish(c, 'start');
}

export function pidOf(ctx: Pick<ContainerContext, 'store'>, ref: string): number {
  const other = ctx.store.get(ref);
  if (!other.State.Running) throw new ConflictError(`cannot join namespace of a non running container ${other.Id}`);
  return other.State.Pid;
}

/** Docker's start-error text → exit code mapping (the CLI reads the same phrases). */
export function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied/.test(msg)) return 126;
  return 128;
}
