// A container's record as berthd keeps it, and its state machine with guards.
// The record is Docker's Config/HostConfig shapes plus our own bookkeeping.
import { ConflictError } from '../../lib/errors';
import type { MountPoint } from './mountpoints';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

/** Docker's container Config (the parts berth reads; unknown fields are kept as given). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: unknown;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  [k: string]: unknown;
}

export interface Ulimit { Name: string; Soft: number; Hard: number }

export interface HostConfig {
  Binds: string[] | null;
  NetworkMode: string;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  AutoRemove: boolean;
  LogConfig: { Type: string; Config: Record<string, string> };
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  MemorySwappiness: number | null;
  NanoCpus: number;
  CpuShares: number;
  CpuQuota: number;
  CpuPeriod: number;
  CpusetCpus: string;
  CpusetMems: string;
  PidsLimit: number | null;
  BlkioWeight: number;
  OomKillDisable: boolean;
  Ulimits: Ulimit[] | null;
  Init?: boolean | null;
  IpcMode: string;
  PidMode: string;
  UTSMode: string;
  ShmSize: number;
  Runtime: string;
  ExtraHosts: string[] | null;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  MaskedPaths: string[] | null;
  ReadonlyPaths: string[] | null;
  Sysctls?: Record<string, string>;
  ConsoleSize: [number, number];
  [k: string]: unknown;
}

export interface ContainerRecord {
  Id: string;
  Name: string;            // with the leading '/'
  Created: string;         // RFC 3339 nano
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;           // image ID (sha256:...)
  /** The image's top layer chain, parent of the writable layer. */
  ImageChainId: string | null;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  RestartCount: number;
  /** True once `docker stop`/`kill` asked it to stop (restart policies honour it). */
  HasBeenManuallyStopped: boolean;
  /** Its volumes, binds and --mount tmpfs, decided at create (mountpoints.ts). */
  MountPoints?: MountPoint[];
  /** Set with the 'removing' state by `rm -v` and AutoRemove: the anonymous volumes go with it. */
  RemoveVolumes?: boolean;
  /** The networks asked for beyond NetworkMode's defaults, by network name (Docker's EndpointsConfig: Aliases, IPAMConfig, MacAddress). */
  NetworkEndpoints?: Record<string, { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null; Aliases?: string[] | null; MacAddress?: string; Links?: string[] | null }>;
  /**
   * Set when a disconnect left the container on no network (NetworkMode became 'none'): unlike
   * a container made with `--network none`, it may be connected again (docker-compose 1.29
   * creates, disconnects, then connects with its aliases).
   */
  DisconnectedNetworkMode?: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

const createdParsed = new WeakMap<ContainerRecord, number>();

/** `c.Created` (set once, at create) in ms since the epoch, parsed once per record (a list of 1,000 asks for each). */
export function createdMs(c: ContainerRecord): number {
  let ms = createdParsed.get(c);
  if (ms === undefined) {
    ms = Date.parse(c.Created);
    createdParsed.set(c, ms);
  }
  return ms;
}

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false,
    Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

// ---- guards: an illegal transition is a typed Conflict, never a half-done operation

export function isRunning(c: ContainerRecord): boolean {
  return c.State.Running;
}

export function canStart(c: ContainerRecord): void {
  if (c.State.Paused) throw new ConflictError('cannot start a paused container, try unpause instead');
  if (c.State.Status === 'removing') throw new ConflictError(`container is marked for removal and cannot be started`);
  if (c.State.Dead) throw new ConflictError('container is marked for removal and cannot be started');
}

export function canKill(c: ContainerRecord): void {
  if (!c.State.Running) throw new ConflictError(`Cannot kill container: ${c.Id}: Container ${c.Id} is not running`);
}

export function canPause(c: ContainerRecord): void {
  if (!c.State.Running) throw new ConflictError(`Container ${c.Id} is not running`);
  if (c.State.Restarting) throw new ConflictError(`Container ${c.Id} is restarting, wait until the container is running`);
  if (c.State.Paused) throw new ConflictError(`Container ${c.Id} is already paused`);
}

export function canUnpause(c: ContainerRecord): void {
  if (!c.State.Paused) throw new ConflictError(`Container ${c.Id} is not paused`);
}

export function canRemove(c: ContainerRecord, force: boolean): void {
  if (c.State.Status === 'removing') throw new ConflictError(`removal of container ${c.Id} is already in progress`);
  if (force) return;
  if (c.State.Restarting) throw new ConflictError(`You cannot remove a restarting container ${c.Id}. Stop the container before attempting removal or force remove`);
  if (c.State.Paused) throw new ConflictError(`You cannot remove a paused container ${c.Id}. Unpause and then stop the container before attempting removal or force remove`);
  if (c.State.Running) throw new ConflictError(`You cannot remove a running container ${c.Id}. Stop the container before attempting removal or force remove`);
}

export function setRunning(c: ContainerRecord, pid: number): void {
  Object.assign(c.State, {
    Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(),
  });
}

export function setExited(c: ContainerRecord, exitCode: number, finishedAt: Date, oomKilled: boolean, error = ''): void {
  Object.assign(c.State, {
    Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: oomKilled,
    Pid: 0, ExitCode: exitCode, Error: error, FinishedAt: finishedAt.toISOString(),
  });
}

/** Docker's SetRestarting: still "running" for stop/kill/rm, waiting for the policy's restart. */
export function setRestarting(c: ContainerRecord, exitCode: number, finishedAt: Date, oomKilled: boolean): void {
  Object.assign(c.State, {
    Status: 'restarting', Running: true, Paused: false, Restarting: true, OOMKilled: oomKilled,
    Pid: 0, ExitCode: exitCode, FinishedAt: finishedAt.toISOString(),
  });
}
