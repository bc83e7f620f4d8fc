// The runtime layer's contract with the engine. runtime/ knows no images and no HTTP:
// it turns a ContainerSpecInput into an OCI bundle and drives conmon + the OCI runtime.
import type { EventEmitter } from 'node:events';
import type { OciSeccomp } from './seccomp';

export interface RuntimeProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  noNewPrivileges: boolean;
  /** The full capability set (CAP_* names) for bounding/effective/permitted. */
  capabilities: string[];
  rlimits: { type: string; soft: number; hard: number }[];
}

export type NamespaceMode = { mode: 'private' } | { mode: 'host' } | { mode: 'path'; path: string };

export interface ResourceLimits {
  memory?: number;            // bytes
  memorySwap?: number;        // bytes, memory+swap; -1 unlimited
  memoryReservation?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  cpuShares?: number;
  cpuQuota?: number;          // µs per period
  cpuPeriod?: number;         // µs
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;         // > 0
  blkioWeight?: number;
}

export interface MountSpec {
  destination: string;
  source: string;
  type: string;
  options: string[];
}

/** A device node made in the container (OCI linux.devices). */
export interface DeviceNode { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
/** A device cgroup rule (OCI linux.resources.devices); no type/major/minor: all. */
export interface DeviceRule { allow: boolean; type?: 'a' | 'c' | 'b'; major?: number; minor?: number; access: string }

export interface ContainerSpecInput {
  id: string;
  /** Absolute path of the (already mounted) root filesystem. */
  rootfs: string;
  readonlyRootfs: boolean;
  hostname: string;
  /** The UTS NIS domain name (`--domainname`); empty for none. */
  domainname?: string;
  process: RuntimeProcess;
  privileged: boolean;
  namespaces: { network: NamespaceMode; ipc: NamespaceMode; pid: NamespaceMode; uts: NamespaceMode };
  /** Mounts added after the defaults (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, cgroup). */
  mounts: MountSpec[];
  resources: ResourceLimits;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** cgroup path relative to the hierarchy root, e.g. "/berth/<id>". */
  cgroupsPath: string;
  shmSize: number;
  /** linux.seccomp, resolved for this container's capabilities; absent: unconfined. */
  seccomp?: OciSeccomp;
  /** That filter compiled (base64), for a runtime that takes it (crun 1.8+: seccompBpf.ts). */
  seccompBpf?: string;
  sysctls?: Record<string, string>;
  /** When set, this host binary is bind-mounted read-only and run as PID 1 in front of the args. */
  init?: { hostPath: string };
  /** Devices made in the container (--device), besides the host's for a privileged one. */
  devices?: DeviceNode[];
  /** Device cgroup rules allowed after the defaults (--device, --device-cgroup-rule). */
  deviceRules?: DeviceRule[];
  /** A user namespace (userns-remap): its own with these mappings, or another container's (path). */
  userns?: UserNamespace;
}

/** One OCI linux.uidMappings / gidMappings entry. */
export interface OciIdMapping { containerID: number; hostID: number; size: number }

export interface UserNamespace {
  path?: string;
  uidMappings: OciIdMapping[];
  gidMappings: OciIdMapping[];
}

export interface RuntimeConfig {
  name: string;       // "runc"
  path: string;       // binary path
  args?: string[];    // extra global args
}

export interface LogRotation {
  /** Bytes; no file grows past it except one holding a single longer record (conmon: <= 8 KiB). */
  maxSize: number;
  /** Generations kept, the current one included. */
  maxFile: number;
}

export interface CreateTaskOptions {
  id: string;
  bundleDir: string;
  runtime: RuntimeConfig;
  terminal: boolean;
  /** Keep a stdin pipe to the process (OpenStdin). */
  openStdin: boolean;
  /** Close the process's stdin when the first attached client closes its stdin (StdinOnce). */
  stdinOnce: boolean;
  /** The container's log (k8s-file lines): a symlink to its newest generation (runtime/logfiles.ts). */
  logPath: string;
  /** 'none': no log is kept (default 'k8s-file' at logPath). */
  logDriver?: 'k8s-file' | 'none';
  /** Rotate by size (berth-logwriter between conmon and the files); unset: one growing file. */
  logRotation?: LogRotation;
}

/** A task's shim, started before its bundle is complete (Runtime.stageCreate). */
export interface StagedTask {
  /** Runs `<runtime> create` over the bundle, now written; resolves with the init PID. Once. */
  create(): Promise<{ pid: number }>;
  /** Ends the shim without a task (a start that failed before its create). Idempotent; a no-op after create. */
  abort(): void;
}

export interface ExitStatus {
  exitCode: number;
  /** When the process exited (from the exit file's mtime). */
  exitedAt: Date;
  oomKilled: boolean;
}

export interface RuntimeState {
  status: 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
}

/** A connection to a running task's stdio through the shim. */
export interface AttachStream extends EventEmitter {
  // events: 'stdout' (Buffer), 'stderr' (Buffer), 'end' ()
  write(data: Buffer): void;
  /** Half-close: no more stdin from this client. */
  endStdin(): void;
  /** Backpressure: stop and resume delivering output (a slow client). */
  pause(): void;
  resume(): void;
  close(): void;
}

export interface ExecTaskOptions {
  /** The container (must be running) and the exec session's own ID. */
  containerId: string;
  execId: string;
  runtime: RuntimeConfig;
  /** The process, or its promise (resolved while the shim starts); a rejection ends the session unstarted. */
  process: RuntimeProcess | Promise<RuntimeProcess>;
  /** Whether the process gets a terminal (its process.terminal, known before the process is). */
  terminal: boolean;
  /** Connect to the process's output (events on the task) before it starts. */
  attach: boolean;
  /** Keep a stdin pipe to the process; closed by endStdin(). */
  stdin: boolean;
  /**
   * Start the session ahead: the shim starts now, the process runs once `go` resolves; a
   * rejection ends the session unstarted (`started` rejects with it). Without it, at once.
   */
  go?: Promise<void>;
}

/**
 * A process run inside a running container (`runc exec` under conmon).
 * Events: 'stdout' (Buffer), 'stderr' (Buffer), 'end' () when the output is over.
 */
export interface ExecTask extends EventEmitter {
  /** Host PID once running; rejects with RuntimeError (the runtime's own words) when it could not start. */
  readonly started: Promise<number>;
  /** The exit code (128+signal when killed); -1 when it never started. */
  readonly exited: Promise<number>;
  /**
   * Whether the runtime was let run the process (the shim took the go): a session whose
   * `started` rejected while this is false never ran its process, and may be run anew.
   */
  readonly letRun: boolean;
  write(data: Buffer): void;
  endStdin(): void;
  /** Backpressure: stop and resume delivering output (a slow client). */
  pause(): void;
  resume(): void;
  /** Detach from the output; the process keeps running. */
  close(): void;
  resize(height: number, width: number): Promise<void>;
  kill(signal?: NodeJS.Signals | number): void;
}

export interface Runtime {
  /** Writes config.json for the input into bundleDir. */
  writeBundle(bundleDir: string, input: ContainerSpecInput): Promise<void>;
  /** Starts the shim, which runs `<runtime> create`. Resolves with the init PID; rejects with RuntimeError. */
  create(opts: CreateTaskOptions): Promise<{ pid: number }>;
  /** create in two steps: the shim is started now and runs the runtime once the bundle is written. */
  stageCreate(opts: CreateTaskOptions): Promise<StagedTask>;
  start(id: string, runtime: RuntimeConfig): Promise<void>;
  kill(id: string, signal: number, runtime: RuntimeConfig): Promise<void>;
  pause(id: string, runtime: RuntimeConfig): Promise<void>;
  resume(id: string, runtime: RuntimeConfig): Promise<void>;
  /** Removes the runtime's state; `force` kills first. Idempotent. */
  delete(id: string, runtime: RuntimeConfig, force?: boolean): Promise<void>;
  state(id: string, runtime: RuntimeConfig): Promise<RuntimeState | undefined>;
  /** Host PIDs of all processes in the container. */
  pids(id: string, runtime: RuntimeConfig): Promise<number[]>;
  /** Resolves once the shim sends this stream the task's output: a task started after it loses none. */
  attach(id: string, opts: { stdin: boolean }): Promise<AttachStream>;
  resize(id: string, height: number, width: number): Promise<void>;
  /** Resolves when the task exits (also for exits that happened while the daemon was down). */
  waitExit(id: string): Promise<ExitStatus>;
  /** Reads the exit record if the task has already exited. */
  readExit(id: string): Promise<ExitStatus | undefined>;
  /** Removes shim leftovers (exit file, sockets, pid files) of a task. */
  cleanup(id: string): Promise<void>;
  /** The IDs that have a task (made by create, until cleanup): for the daemon start's repairs. */
  taskIds(): Promise<string[]>;
  /** Changes a running task's cgroup limits (`runc update`); only the given fields change. */
  update(id: string, resources: ResourceLimits, runtime: RuntimeConfig): Promise<void>;
  /** Runs a process in a running container (joins its namespaces and cgroup). */
  exec(opts: ExecTaskOptions): ExecTask;
}
