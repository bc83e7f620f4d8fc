// One build: the Dockerfile planned into stages (ARG before FROM, --target, stages the target
// does not need skipped), each instruction a step that is taken from the cache or executed
// (RUN in a container of the step's image through the container service; COPY/ADD/WORKDIR in a
// writable layer of the layer store; the rest in the config), each step an image, as the
// classic builder does. Output: the classic builder's lines, through `out`.
import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BerthError, InvalidParameterError } from '../../lib/errors';
import { digestHex, sha256 } from '../../lib/digest';
import { shortId } from '../../lib/ids';
import { InRoot } from '../../lib/sys/inroot';
import { applyChanges, splitWords } from '../images/changes';
import type { ImageService } from '../images/ImageService';
import type { ContainerService } from '../containers/ContainerService';
import { resolveUser } from '../containers/user';
import { decompressed } from '../../store/layers/compression';
import { extractTar } from '../../store/layers/extract';
import type { LayerMeta } from '../../store/layers/types';
import type { ImageRecord, ImageRunConfig } from '../../store/images/types';
import type { AuthConfig } from '../../lib/authConfig';
import { BuildCache, stepKey } from './cache';
import type { CacheFromSources } from './cacheFrom';
import { EMPTY_TAR_DIFF_ID, registerChildImage, runConfigOf } from './childImage';
import { checksumSources, copyInto, matchSources, writeHeredoc, type CopyOptions } from './copy';
import { checkFlags, flagValue, parseDockerfile, type Instruction } from './dockerfile';
import { buildNetworkMode, resolveBaseImage } from './policy';
import { findStub, parseRunMount, removeStubs, resolveTarget, type CacheMounts, type MountStub, type RunMount } from './runMounts';

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  noCache: boolean;
  rm: boolean;
  forceRm: boolean;
  labels: Record<string, string>;
  target?: string;
  networkMode?: string;
  quiet: boolean;
  extraHosts: string[];
  shmSize?: number;
  pull: boolean;
  /** Images whose history serves as cache (docker build --cache-from). */
  cacheFrom: string[];
  /** X-Registry-Config: credentials by registry key, for the FROM pulls. */
  registryAuths: Record<string, AuthConfig>;
}

export interface BuildDeps {
  images: ImageService;
  containers: ContainerService;
  cache: BuildCache;
  /** RUN --mount=type=cache directories, kept between builds. */
  cacheMounts: CacheMounts;
  /** A private scratch directory for this build (removed by the caller). */
  tmpDir: string;
  /** The --cache-from images, when the build names any. */
  cacheFrom?: CacheFromSources;
}

/** A failed build step: the message the client shows and the exit code it exits with. */
export class BuildStepError extends BerthError {
  constructor(message: string, readonly code: number) { super('InvalidParameter', message); }
}

const execFileAsync = promisify(execFile);

/** Build args usable without an ARG line (Docker's predefined proxy args), never recorded in history. */
const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const METADATA = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME']);

interface Stage {
  index: number;
  name?: string;
  from: Instruction;
  baseName: string;
  instructions: Instruction[];
}

/** Where a stage's lines go, and its step counter (numbers are fixed by the plan). */
interface StageOutput {
  step: number;
  say(s: string): void;
}

interface StageState {
  out: StageOutput;
  image: ImageRecord | null;
  config: ImageRunConfig;
  /** ARGs declared in this stage with their values (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  maintainer?: string;
}

function envMap(env: string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

export class Builder {
  /** Said after the result (Docker prints them after the image ID). */
  readonly warnings: string[] = [];
  private totalSteps = 0;
  private readonly consumed = new Set<string>();
  private readonly metaArgs = new Map<string, string | undefined>();
  private readonly stageImages = new Map<number, ImageRecord | null>();
  private readonly network: string;
  private readonly epoch?: Date;

  constructor(private readonly deps: BuildDeps, private readonly opts: BuildOptions, private readonly out: (s: string) => void) {
    this.network = buildNetworkMode(opts.networkMode);
    const sde = opts.buildArgs.SOURCE_DATE_EPOCH;
    if (sde !== undefined && sde !== null) {
      if (!/^\d+$/.test(sde)) throw new InvalidParameterError(`invalid SOURCE_DATE_EPOCH: ${sde}`);
      this.epoch = new Date(Number(sde) * 1000);
      this.consumed.add('SOURCE_DATE_EPOCH');
    }
  }

  private say(s: string): void {
    if (!this.opts.quiet) this.out(s);
  }

  /**
   * Builds from the context directory; returns the final image. Stages that do not depend on
   * each other build at the same time; their lines are shown in the Dockerfile's order (a
   * stage's are held until the ones before it are done), each with the step numbers the plan
   * gives it.
   */
  async build(contextDir: string, dockerfileText: string): Promise<ImageRecord> {
    const df = parseDockerfile(dockerfileText);
    const { stages, meta } = this.plan(df.instructions);
    for (const ins of meta) this.declareMetaArg(ins);
    const targetIdx = this.targetIndex(stages);
    const needed = this.neededStages(stages, targetIdx);
    const order = stages.filter((s) => needed.has(s.index));
    const labelStep = Object.keys(this.opts.labels).length ? 1 : 0;
    this.totalSteps = order.reduce((n, s) => n + 1 + s.instructions.length, 0) + labelStep;
    const output = new OrderedOutput(order.map((s) => s.index), (text) => this.say(text));
    const runs = new Map<number, Promise<StageState>>();
    let base = 0;
    for (const st of order) {
      const first = base;
      base += 1 + st.instructions.length;
      const deps = this.stageDeps(stages, st);
      runs.set(st.index, (async () => {
        await Promise.all(deps.map((i) => runs.get(i)!));
        const out: StageOutput = { step: first, say: output.sink(st.index) };
        const res = await this.buildStage(st, stages, contextDir, st.index === targetIdx, out);
        this.stageImages.set(st.index, res.image);
        output.finish(st.index);
        return res;
      })());
    }
    const settled = await Promise.allSettled(order.map((st) => runs.get(st.index)!));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      output.flushAll();
      throw (failed as PromiseRejectedResult).reason;
    }
    const last = (settled[settled.length - 1] as PromiseFulfilledResult<StageState>).value;
    if (!last.image) throw new InvalidParameterError('No image was generated. Is your Dockerfile empty?');
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.consumed.has(k) && !PREDEFINED_ARGS.includes(k)).sort();
    if (unused.length) this.warnings.push(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    return last.image;
  }

  private plan(all: Instruction[]): { stages: Stage[]; meta: Instruction[] } {
    const meta: Instruction[] = [];
    const stages: Stage[] = [];
    for (const ins of all) {
      if (ins.cmd === 'FROM') {
        checkFlags(ins, ['platform']);
        const words = ins.rest.split(/\s+/).filter(Boolean);
        if (words.length !== 1 && !(words.length === 3 && words[1].toUpperCase() === 'AS')) {
          throw new InvalidParameterError(`FROM requires either one or three arguments (line ${ins.line})`);
        }
        const name = words.length === 3 ? words[2].toLowerCase() : undefined;
        if (name && stages.some((s) => s.name === name)) throw new InvalidParameterError(`duplicate name ${name}`);
        stages.push({ index: stages.length, name, from: ins, baseName: words[0], instructions: [] });
        continue;
      }
      if (!stages.length) {
        if (ins.cmd !== 'ARG') throw new InvalidParameterError(`no build stage in current context (${ins.cmd} before FROM, line ${ins.line})`);
        meta.push(ins);
        continue;
      }
      stages[stages.length - 1].instructions.push(ins);
    }
    if (!stages.length) throw new InvalidParameterError('the Dockerfile has no FROM instruction');
    return { stages, meta };
  }

  private targetIndex(stages: Stage[]): number {
    if (!this.opts.target) return stages.length - 1;
    const i = stages.findIndex((s) => s.name === this.opts.target!.toLowerCase());
    if (i < 0) throw new InvalidParameterError(`failed to reach build target ${this.opts.target} in Dockerfile`);
    return i;
  }

  /** The stage a name or index (`--from=`, `FROM`) refers to among those before `before`. */
  private stageRef(stages: Stage[], ref: string, before: number): Stage | undefined {
    const lower = ref.toLowerCase();
    const byName = stages.find((s) => s.index < before && s.name === lower);
    if (byName) return byName;
    if (/^\d+$/.test(ref)) {
      const i = Number(ref);
      if (i >= before) throw new InvalidParameterError(`invalid from flag value ${ref}: refers to current or future build stage`);
      return stages[i];
    }
    return undefined;
  }

  /** The stages `st` reads: its FROM, its COPY --from and its RUN --mount=...,from=. */
  private stageDeps(stages: Stage[], st: Stage): number[] {
    const deps = new Set<number>();
    const base = this.stageRef(stages, this.expandMeta(st.baseName), st.index);
    if (base) deps.add(base.index);
    for (const ins of st.instructions) {
      const froms = ins.cmd === 'COPY' ? [flagValue(ins, 'from')]
        : ins.cmd === 'RUN' ? ins.flags.filter((f) => f.name === 'mount').map((f) => /(?:^|,)from=([^,]+)/.exec(f.value ?? '')?.[1]) : [];
      for (const from of froms) {
        if (!from) continue;
        const s = this.stageRef(stages, from, st.index);
        if (s) deps.add(s.index);
      }
    }
    return [...deps];
  }

  private neededStages(stages: Stage[], target: number): Set<number> {
    const needed = new Set<number>();
    const visit = (i: number): void => {
      if (needed.has(i)) return;
      needed.add(i);
      for (const d of this.stageDeps(stages, stages[i])) visit(d);
    };
    visit(target);
    return needed;
  }

  private declareMetaArg(ins: Instruction): void {
    for (const w of splitWords(ins.rest, new Map())) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      const dflt = eq < 0 ? undefined : w.slice(eq + 1);
      const given = this.opts.buildArgs[name];
      if (given !== undefined && given !== null) this.consumed.add(name);
      this.metaArgs.set(name, given !== undefined && given !== null ? given : dflt);
    }
  }

  private expandMeta(s: string): string {
    const env = new Map<string, string>();
    for (const [k, v] of this.metaArgs) if (v !== undefined) env.set(k, v);
    return splitWords(s, env).join(' ');
  }

  /** Variables substitution sees in a stage: declared ARGs with values, then Env over them. */
  private vars(st: StageState): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of st.args) if (v !== undefined) m.set(k, v);
    for (const [k, v] of envMap(st.config.Env)) m.set(k, v);
    return m;
  }

  private argsOnly(st: StageState): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of st.args) if (v !== undefined) m.set(k, v);
    return m;
  }

  private header(st: { out: StageOutput }, original: string): void {
    st.out.step++;
    st.out.say(`Step ${st.out.step}/${this.totalSteps} : ${original}`);
    st.out.say('\n');
  }

  private async buildStage(stage: Stage, stages: Stage[], contextDir: string, isTarget: boolean, out: StageOutput): Promise<StageState> {
    this.header({ out }, stage.from.original);
    const baseName = this.expandMeta(stage.baseName);
    const platform = flagValue(stage.from, 'platform');
    if (platform) this.checkPlatform(this.expandMeta(platform));
    let image: ImageRecord | null;
    const ref = this.stageRef(stages, baseName, stage.index);
    if (ref) image = this.stageImages.get(ref.index) ?? null;
    else if (baseName === 'scratch') image = null;
    else image = await this.baseImage(baseName, (l) => out.say(l));
    out.say(` ---> ${image ? shortId(image.id.slice(7)) : ''}\n`);
    const st: StageState = { out, image, config: JSON.parse(JSON.stringify(image?.config.config ?? {})) as ImageRunConfig, args: new Map(), cmdSet: false };
    // The base image's ONBUILD triggers run first; the image built here does not inherit them.
    const triggers = st.config.OnBuild ?? [];
    if (triggers.length) {
      st.out.say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      st.config.OnBuild = null;
      for (const t of triggers) {
        for (const ins of parseDockerfile(t).instructions) await this.dispatch(ins, st, stages, stage.index, contextDir);
      }
    }
    for (const ins of stage.instructions) {
      this.header(st, ins.original);
      await this.dispatch(ins, st, stages, stage.index, contextDir);
    }
    if (isTarget && Object.keys(this.opts.labels).length) {
      const text = 'LABEL ' + Object.entries(this.opts.labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ');
      this.header(st, text);
      await this.dispatch(parseDockerfile(text).instructions[0], st, stages, stage.index, contextDir);
    }
    if (!st.image) {
      // FROM scratch with only metadata or nothing at all: still an image.
      await this.commitStep(st, `#(nop) `, st.config, async () => ({ layer: null }));
    }
    return st;
  }

  /** A FROM / --from image: local, or pulled with the build's credentials for its registry. */
  private baseImage(ref: string, say: (s: string) => void): Promise<ImageRecord> {
    return resolveBaseImage(this.deps.images, ref, { pull: this.opts.pull, auths: this.opts.registryAuths, say });
  }

  private checkPlatform(p: string): void {
    const [os, arch] = p.toLowerCase().split('/');
    const hostArch = process.arch === 'x64' ? 'amd64' : process.arch;
    if (os !== 'linux' || (arch && arch !== hostArch && !(arch === 'x86_64' && hostArch === 'amd64'))) {
      throw new InvalidParameterError(`berth builds for linux/${hostArch} only (FROM --platform=${p})`);
    }
  }

  private shell(st: StageState): string[] {
    return st.config.Shell && st.config.Shell.length ? st.config.Shell : ['/bin/sh', '-c'];
  }

  private nop(st: StageState, text: string): string {
    return `${this.shell(st).join(' ')} #(nop)  ${text}`;
  }

  /** The step's image from the daemon's cache or a --cache-from image, if either has it. */
  private async cachedStep(st: StageState, key: string, createdBy: string, config: ImageRunConfig, sources: string | undefined): Promise<ImageRecord | undefined> {
    if (this.opts.noCache) return undefined;
    const from = this.deps.cacheFrom;
    const hit = await this.deps.cache.get(key, (id) => this.deps.images.store.has(id));
    if (hit && (!from || from.acceptsLocalHit(hit))) return this.deps.images.store.get(hit);
    // A --cache-from image knows a step only by its history line: a step whose key holds
    // more (RUN --mount's bind sources) is never taken from one.
    if (!from || sources !== undefined) return undefined;
    const img = await from.match(st.image, createdBy, config);
    if (img) await this.deps.cache.put(key, img.id);
    return img;
  }

  /**
   * Takes a step from the cache, or runs `produce` and records the image it makes. `createdBy`
   * is the history line; with `config` and `sources` (what the step reads that its history
   * line does not show) it is the cache key.
   */
  private async commitStep(st: StageState, createdBy: string, config: ImageRunConfig,
    produce: () => Promise<{ layer: LayerMeta | null; container?: { id: string; config: ImageRunConfig } }>, sources?: string): Promise<void> {
    // SOURCE_DATE_EPOCH changes the files' times and the history's, which created_by does not show.
    const extra = this.epoch ? [st.maintainer ?? null, this.epoch.getTime()] : st.maintainer ?? null;
    const key = stepKey({ parent: st.image?.id ?? null, createdBy, config, sources, extra });
    const cached = await this.cachedStep(st, key, createdBy, config, sources);
    if (cached) {
      st.out.say(' ---> Using cache\n');
      st.image = cached;
      st.config = JSON.parse(JSON.stringify(cached.config.config ?? {})) as ImageRunConfig;
      st.out.say(` ---> ${shortId(cached.id.slice(7))}\n`);
      return;
    }
    const made = await produce();
    try {
      const img = await registerChildImage(this.deps.images, {
        parent: st.image, layer: made.layer, config, createdBy,
        ...(st.maintainer ? { author: st.maintainer } : {}),
        ...(made.container ? { container: made.container } : {}),
        // Go's RFC 3339 form (no zero fraction), as dockerd writes it.
        ...(this.epoch ? { created: this.epoch.toISOString().replace(/\.000Z$/, 'Z') } : {}),
      });
      await this.deps.cache.put(key, img.id);
      st.image = img;
      st.config = JSON.parse(JSON.stringify(config)) as ImageRunConfig;
    } finally {
      if (made.layer) {
        this.deps.images.layers.unpin([made.layer.chainId]);
        // A step that changed no file made an empty layer that no image names: drop it.
        if (made.layer.diffId === EMPTY_TAR_DIFF_ID) await this.deps.images.gcLayers().catch(() => undefined);
      }
    }
    if (made.container && (this.opts.rm || this.opts.forceRm)) {
      st.out.say(`Removing intermediate container ${shortId(made.container.id)}\n`);
      await this.deps.containers.remove(made.container.id, { force: true }).catch(() => undefined);
    }
    st.out.say(` ---> ${shortId(st.image.id.slice(7))}\n`);
  }

  private async dispatch(ins: Instruction, st: StageState, stages: Stage[], stageIdx: number, contextDir: string): Promise<void> {
    if (ins.cmd !== 'RUN' && ins.cmd !== 'COPY' && ins.cmd !== 'ADD') checkFlags(ins, []);
    switch (ins.cmd) {
      case 'RUN': return this.run(ins, st, stages, stageIdx, contextDir);
      case 'COPY':
      case 'ADD': return this.copy(ins, st, stages, stageIdx, contextDir);
      case 'WORKDIR': return this.workdir(ins, st);
      case 'ARG': return this.arg(ins, st);
      case 'MAINTAINER': {
        st.maintainer = ins.rest;
        return this.commitStep(st, this.nop(st, `MAINTAINER ${ins.rest}`), st.config, async () => ({ layer: null }));
      }
      case 'FROM': throw new InvalidParameterError('FROM is not allowed here');
      default: {
        if (!METADATA.has(ins.cmd)) throw new InvalidParameterError(`unknown instruction: ${ins.cmd}`);
        const before = st.config.Cmd;
        const next = applyChanges(st.config, [`${ins.cmd} ${ins.rest}`], { args: this.argsOnly(st) });
        if (ins.cmd === 'CMD') st.cmdSet = true;
        // ENTRYPOINT drops an inherited CMD, not one this stage set.
        if (ins.cmd === 'ENTRYPOINT' && st.cmdSet) next.Cmd = before;
        return this.commitStep(st, this.nop(st, this.historyText(ins, next)), next, async () => ({ layer: null }));
      }
    }
  }

  /** How Docker writes a metadata step in history (`CMD ["sh" "-c" "x"]`, `ENV A=b`). */
  private historyText(ins: Instruction, cfg: ImageRunConfig): string {
    const q = (a: string[] | null | undefined) => `[${(a ?? []).map((x) => JSON.stringify(x)).join(' ')}]`;
    if (ins.cmd === 'CMD') return `CMD ${q(cfg.Cmd)}`;
    if (ins.cmd === 'ENTRYPOINT') return `ENTRYPOINT ${q(cfg.Entrypoint)}`;
    return `${ins.cmd} ${ins.rest}`;
  }

  private arg(ins: Instruction, st: StageState): Promise<void> {
    const words = splitWords(ins.rest, this.vars(st));
    if (!words.length) throw new InvalidParameterError('ARG requires at least one argument');
    const shown: string[] = [];
    for (const w of words) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      const dflt = eq < 0 ? (this.metaArgs.has(name) ? this.metaArgs.get(name) : undefined) : w.slice(eq + 1);
      const given = this.opts.buildArgs[name];
      const value = given !== undefined && given !== null ? given : dflt;
      if (given !== undefined && given !== null) this.consumed.add(name);
      st.args.set(name, value);
      shown.push(value !== undefined ? `${name}=${value}` : name);
    }
    return this.commitStep(st, this.nop(st, `ARG ${shown.join(' ')}`), st.config, async () => ({ layer: null }));
  }

  /** RUN's environment: the config's Env, then the declared args Env does not set, then proxies given. */
  private runEnv(st: StageState): { env: string[]; recorded: string[] } {
    const env = [...(st.config.Env ?? [])];
    const have = envMap(st.config.Env);
    const recorded: string[] = [];
    for (const [k, v] of [...st.args].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (v === undefined || have.has(k)) continue;
      env.push(`${k}=${v}`);
      recorded.push(`${k}=${v}`);
    }
    for (const k of PREDEFINED_ARGS) {
      const v = this.opts.buildArgs[k];
      if (v !== undefined && v !== null && !have.has(k) && !st.args.has(k)) env.push(`${k}=${v}`);
    }
    return { env, recorded };
  }

  private async run(ins: Instruction, st: StageState, stages: Stage[], stageIdx: number, contextDir: string): Promise<void> {
    checkFlags(ins, ['network', 'mount', 'security']);
    for (const f of ins.flags) {
      if (f.name === 'security' && f.value !== 'sandbox') throw new InvalidParameterError(`RUN --security=${f.value} is not supported by berth (line ${ins.line})`);
    }
    const netFlag = flagValue(ins, 'network');
    const network = netFlag ? buildNetworkMode(netFlag) : this.network;
    if (!st.image) throw new InvalidParameterError('RUN needs a base image: FROM scratch has no shell');
    let cmd: string[];
    if (ins.json) cmd = ins.json;
    else {
      let script = ins.rest;
      if (ins.heredocs.length) {
        const lead = script.replace(/<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1/g, '').trim();
        // `RUN <<EOF` alone runs the heredoc as the script; with a command, the shell gets the heredoc.
        script = lead === '' && ins.heredocs.length === 1
          ? ins.heredocs[0].content
          : `${ins.rest}\n${ins.heredocs.map((h) => `${h.content}${h.name}`).join('\n')}`;
      }
      cmd = [...this.shell(st), script];
    }
    const { env, recorded } = this.runEnv(st);
    const createdBy = (recorded.length ? [`|${recorded.length}`, ...recorded, ...cmd] : cmd).join(' ');
    const image = st.image;
    const vars = this.vars(st);
    const mounts = ins.flags.filter((f) => f.name === 'mount').map((f) => {
      const m = parseRunMount(f.value ?? '', ins.line, (v) => splitWords(v, vars).join(''));
      resolveTarget(m, st.config.WorkingDir ?? '/');
      return m;
    });
    const targets = new Set<string>();
    for (const m of mounts) {
      if (targets.has(m.target)) throw new InvalidParameterError(`RUN --mount: duplicate mount target ${m.target} (line ${ins.line})`);
      targets.add(m.target);
    }
    // The key holds the mounts as written and, for binds, what they show (the files'
    // checksum or the image): a cache mount's contents are never part of it.
    const mountKey = mounts.length ? JSON.stringify(await Promise.all(mounts.map(async (m) => ({ ...m, shows: await this.bindIdentity(m, stages, stageIdx, contextDir) })))) : undefined;
    await this.commitStep(st, createdBy, st.config, async () => {
      const held = await this.openRunMounts(mounts, image, stages, stageIdx, contextDir);
      try {
        const { Id } = await this.deps.containers.create(undefined, {
          Image: image.id, Cmd: cmd, Entrypoint: [], Env: env,
          User: st.config.User ?? '', WorkingDir: st.config.WorkingDir ?? '',
          AttachStdout: true, AttachStderr: true, Labels: {},
          HostConfig: {
            NetworkMode: network,
            ...(this.opts.extraHosts.length ? { ExtraHosts: this.opts.extraHosts } : {}),
            ...(this.opts.shmSize ? { ShmSize: this.opts.shmSize } : {}),
            ...(held.hostMounts.length ? { Mounts: held.hostMounts } : {}),
          },
        });
        st.out.say(` ---> Running in ${shortId(Id)}\n`);
        const code = await this.runContainer(Id, st.out);
        if (code !== 0) {
          if (this.opts.forceRm) await this.deps.containers.remove(Id, { force: true }).catch(() => undefined);
          throw new BuildStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
        }
        if (held.stubs.length) {
          const info = await this.deps.images.mountInfo(Id);
          await InRoot.with(info.upperDir, (upper) => removeStubs(upper, held.stubs));
        }
        const layer = await this.deps.images.layers.commitMount(Id);
        return { layer, container: { id: Id, config: { ...runConfigOf(this.deps.containers.store.get(Id).Config) } } };
      } finally {
        await held.close();
      }
    }, mountKey);
  }

  /** What a bind mount shows, for the cache key: the checksum of its files or the image's ID. */
  private async bindIdentity(m: RunMount, stages: Stage[], stageIdx: number, contextDir: string): Promise<string | undefined> {
    if (m.type !== 'bind') return undefined;
    if (m.from === undefined) {
      return InRoot.with(contextDir, async (ctx) => checksumSources(ctx, [await this.bindSourceIn(ctx, m, 'build context')], false));
    }
    const img = await this.mountImage(m.from, stages, stageIdx);
    return img?.id ?? 'scratch';
  }

  private async mountImage(from: string, stages: Stage[], stageIdx: number): Promise<ImageRecord | null> {
    const s = this.stageRef(stages, from, stageIdx);
    if (s) return this.stageImages.get(s.index) ?? null;
    return this.baseImage(from, (l) => this.say(l));
  }

  private async bindSourceIn(root: InRoot, m: RunMount, what: string): Promise<string> {
    const norm = path.posix.normalize(m.source);
    if (norm === '..' || norm.startsWith('../')) throw new InvalidParameterError(`RUN --mount: source ${m.source} is outside the ${what}`);
    const p = path.posix.resolve('/', norm);
    if (!(await root.exists(p))) throw new InvalidParameterError(`RUN --mount: source ${m.source} not found in the ${what}`);
    return root.realpath(p);
  }

  /**
   * The RUN container's HostConfig.Mounts for the step's --mount flags: cache directories,
   * bind sources (the context's files, or a stage's or image's root mounted for the step;
   * `rw` binds write to a throwaway copy), tmpfs; and the mount points the runtime will have to
   * create in the writable layer (removed after the run).
   */
  private async openRunMounts(mounts: RunMount[], image: ImageRecord, stages: Stage[], stageIdx: number, contextDir: string): Promise<{ hostMounts: Record<string, unknown>[]; stubs: MountStub[]; close: () => Promise<void> }> {
    const closers: (() => Promise<void>)[] = [];
    const close = async () => { for (const c of closers.reverse()) await c().catch(() => undefined); };
    const hostMounts: Record<string, unknown>[] = [];
    const stubs: MountStub[] = [];
    try {
      if (!mounts.length) return { hostMounts, stubs, close };
      const stepRoot = await this.openImageRoot(image);
      closers.push(stepRoot.close);
      await InRoot.with(stepRoot.dir, async (r) => {
        for (const m of mounts) {
          const s = await findStub(r, m.target);
          if (s) stubs.push(s);
        }
      });
      for (const m of mounts) {
        if (m.type === 'tmpfs') {
          hostMounts.push({ Type: 'tmpfs', Target: m.target, ...(m.size ? { TmpfsOptions: { SizeBytes: m.size } } : {}) });
          continue;
        }
        let source: string;
        if (m.type === 'cache') {
          const c = await this.deps.cacheMounts.acquire(m, this.deps.tmpDir);
          closers.push(c.release);
          source = c.dir;
        } else if (m.from === undefined) {
          const inCtx = await InRoot.with(contextDir, (ctx) => this.bindSourceIn(ctx, m, 'build context'));
          source = path.join(contextDir, inCtx);
          if (!m.readonly) {
            // The context is every step's: a writable bind gets a copy, dropped after the step.
            const copy = path.join(this.deps.tmpDir, `bind-${randomBytes(6).toString('hex')}`);
            await execFileAsync('cp', ['-a', '--', source, copy]);
            closers.push(() => fsp.rm(copy, { recursive: true, force: true }));
            source = copy;
          }
        } else {
          const img = await this.mountImage(m.from, stages, stageIdx);
          const root = await this.openImageRoot(img);
          closers.push(root.close);
          // The image's root is a writable layer of its own, removed after the step: `rw` writes vanish.
          source = path.join(root.dir, await InRoot.with(root.dir, (r) => this.bindSourceIn(r, m, `image or stage ${m.from}`)));
        }
        hostMounts.push({ Type: 'bind', Source: source, Target: m.target, ReadOnly: m.readonly });
      }
      return { hostMounts, stubs, close };
    } catch (e) {
      await close();
      throw e;
    }
  }

  /** An image's root, mounted (as a writable layer of its own) until `close`. */
  private async openImageRoot(img: ImageRecord | null): Promise<{ dir: string; close: () => Promise<void> }> {
    const id = `build-${randomBytes(12).toString('hex')}`;
    const layers = this.deps.images.layers;
    await layers.createMount(id, img?.topChainId ?? null);
    try {
      const dir = await layers.mount(id);
      return { dir, close: () => layers.removeMount(id) };
    } catch (e) {
      await layers.removeMount(id).catch(() => undefined);
      throw e;
    }
  }

  /** Starts the container with its output streamed to the build's; returns the exit code. */
  private async runContainer(id: string, out: StageOutput): Promise<number> {
    const session = await this.deps.containers.attach(id, { stdin: false, stdout: true, stderr: true });
    const ended = new Promise<void>((resolve) => session.once('end', () => resolve()));
    session.on('data', (_s: string, chunk: Buffer) => out.say(chunk.toString('utf8')));
    const exited = this.deps.containers.wait(id, 'next-exit');
    try {
      await this.deps.containers.start(id);
    } catch (e) {
      session.close();
      throw e;
    }
    const info = await exited;
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    session.close();
    return info.exitCode;
  }

  /** Runs `fn` on a writable layer over the step's image; returns the layer it made. */
  private async inLayer(st: StageState, fn: (root: InRoot, merged: string) => Promise<void>): Promise<LayerMeta> {
    const id = `build-${randomBytes(12).toString('hex')}`;
    const layers = this.deps.images.layers;
    await layers.createMount(id, st.image?.topChainId ?? null);
    try {
      const merged = await layers.mount(id);
      await InRoot.with(merged, (root) => fn(root, merged));
      await layers.unmount(id);
      return await layers.commitMount(id);
    } finally {
      await layers.removeMount(id).catch(() => undefined);
    }
  }

  /** Runs `fn` with the root of an image (another stage's, or any local image), read-only by use. */
  private async withImageRoot<T>(img: ImageRecord | null, fn: (root: InRoot) => Promise<T>): Promise<T> {
    const id = `build-${randomBytes(12).toString('hex')}`;
    const layers = this.deps.images.layers;
    await layers.createMount(id, img?.topChainId ?? null);
    try {
      const merged = await layers.mount(id);
      return await InRoot.with(merged, fn);
    } finally {
      await layers.removeMount(id).catch(() => undefined);
    }
  }

  private async workdir(ins: Instruction, st: StageState): Promise<void> {
    const next = applyChanges(st.config, [`WORKDIR ${ins.rest}`], { args: this.argsOnly(st) });
    const dir = next.WorkingDir!;
    await this.commitStep(st, this.nop(st, `WORKDIR ${dir}`), next, async () => {
      const fixed = this.epoch ?? new Date(0);
      const layer = await this.inLayer(st, async (root) => {
        if (await root.exists(dir)) return;
        // Created as root, as the classic builder does.
        await root.mkdirAll(dir, { mode: 0o755 });
        for (let d = dir; d !== '/'; d = path.posix.dirname(d)) await root.lutimes(d, fixed, fixed).catch(() => undefined);
      });
      return { layer };
    });
  }

  private async copy(ins: Instruction, st: StageState, stages: Stage[], stageIdx: number, contextDir: string): Promise<void> {
    const isAdd = ins.cmd === 'ADD';
    checkFlags(ins, isAdd ? ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir'] : ['from', 'chown', 'chmod', 'link', 'parents', 'exclude']);
    for (const f of ins.flags) {
      if (['keep-git-dir', 'parents', 'exclude'].includes(f.name)) throw new InvalidParameterError(`${ins.cmd} --${f.name} is not supported by berth's builder yet (line ${ins.line})`);
    }
    const vars = this.vars(st);
    let words: string[];
    if (ins.json) words = ins.json.map((w) => splitWords(JSON.stringify(w).slice(1, -1).replace(/\\"/g, '"'), vars).join(' '));
    else words = splitWords(ins.rest, vars);
    if (words.length < 2) throw new InvalidParameterError(`${ins.cmd} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    let dest = words[words.length - 1];
    const srcs = words.slice(0, -1);
    const wd = st.config.WorkingDir || '/';
    const endsSlash = dest.endsWith('/') || dest === '.';
    dest = path.posix.resolve(wd, dest);
    const forceDir = endsSlash || srcs.length > 1;
    if (srcs.length > 1 && !endsSlash) throw new InvalidParameterError(`When using ${ins.cmd} with more than one source file, the destination must be a directory and end with a /`);
    const isUrl = (s: string) => /^https?:\/\//.test(s);
    for (const s of srcs) {
      if (/^git:\/\//.test(s) || s.startsWith('git@') || (/^https?:\/\//.test(s) && /\.git(#.*)?$/.test(s))) {
        throw new InvalidParameterError(`${ins.cmd} from a git repository (${s}) is not supported by berth's builder yet`);
      }
      if (isUrl(s) && !isAdd) throw new InvalidParameterError(`source can't be a URL for COPY`);
    }
    // ADD <url>: fetched by the daemon each build (as the classic builder), into the scratch
    // directory; the cache key is what was fetched. --checksum verifies it.
    const urls = srcs.filter(isUrl);
    const fetched = urls.length ? await this.fetchUrls(urls, flagValue(ins, 'checksum')) : undefined;
    if (!fetched && flagValue(ins, 'checksum') !== undefined) throw new InvalidParameterError('ADD --checksum is only supported for HTTP(S) sources');
    const chmodRaw = flagValue(ins, 'chmod');
    let chmod: number | undefined;
    if (chmodRaw !== undefined) {
      if (!/^[0-7]{3,4}$/.test(chmodRaw)) throw new InvalidParameterError(`invalid chmod parameter: ${chmodRaw}`);
      chmod = parseInt(chmodRaw, 8);
    }
    const chownRaw = flagValue(ins, 'chown');
    const chownSpec = chownRaw !== undefined ? splitWords(chownRaw, vars).join('') : undefined;
    const fromRef = flagValue(ins, 'from');
    const heredocNames = new Set(ins.heredocs.map((h) => h.name));
    const isHeredoc = (w: string): boolean => { const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)$/.exec(w); return !!m && heredocNames.has(m[1]); };

    // The sources' root: the context, a stage's image or a local image.
    const runWithSource = async <T>(fn: (root: InRoot, fromContext: boolean) => Promise<T>): Promise<T> => {
      if (!fromRef) return InRoot.with(contextDir, (r) => fn(r, true));
      const fromExpanded = splitWords(fromRef, vars).join('');
      const s = this.stageRef(stages, fromExpanded, stageIdx);
      const img = s ? this.stageImages.get(s.index) ?? null : await this.baseImage(fromExpanded, (l) => this.say(l));
      return this.withImageRoot(img, (r) => fn(r, false));
    };

    await runWithSource(async (src, fromContext) => {
      const what = fromContext ? 'build context or excluded by .dockerignore' : `image or stage ${fromRef}`;
      const plain = srcs.filter((s) => !isHeredoc(s) && !isUrl(s));
      const matched: string[] = [];
      for (const s of plain) matched.push(...await matchSources(src, s, what));
      const sum = await checksumSources(src, matched, !fromContext);
      const hereSum = ins.heredocs.map((h) => `${h.name}\n${h.content}`).join('\0');
      const kind = matched.length + ins.heredocs.length > 1 ? 'multi' : (matched.length && (await src.lstat(matched[0])).isDirectory()) ? 'dir' : 'file';
      // The history line names everything the result depends on (it is all a --cache-from
      // image is matched by): the files' checksum (with heredocs and downloads folded in),
      // --chown and --chmod (written as dockerd writes --chown: no space before the hash).
      const hash = !ins.heredocs.length && !fetched ? sum : digestHex(sha256(`${sum}:${hereSum}:${fetched?.sum ?? ''}`));
      const flags = `${chownSpec !== undefined ? `--chown=${chownSpec}` : ''}${chmodRaw !== undefined ? `--chmod=${chmodRaw}` : ''}`;
      // One space after #(nop) for COPY/ADD, two for metadata steps: Docker's two helpers.
      const shownDest = endsSlash && dest !== '/' ? `${dest}/` : dest;
      const createdBy = `${this.shell(st).join(' ')} #(nop) ${ins.cmd} ${flags}${kind}:${hash} in ${shownDest} `;
      await this.commitStep(st, createdBy, st.config, async () => {
        const layer = await this.inLayer(st, async (dst, merged) => {
          const chown = chownSpec ? await this.resolveChown(merged, chownSpec) : undefined;
          const copyOpts: CopyOptions = {
            ...(chown ? { chown } : {}), ...(chmod !== undefined ? { chmod } : {}),
            rootOwned: fromContext, fixedTime: this.epoch ?? new Date(0), ...(this.epoch ? { clampTime: this.epoch } : {}),
          };
          for (const h of ins.heredocs) {
            const content = h.quoted ? h.content : splitHeredoc(h.content, vars);
            await writeHeredoc(dst, dest, h.name, content, forceDir, copyOpts);
          }
          if (fetched) {
            await InRoot.with(fetched.dir, (u) => copyInto(u, fetched.names.map((n) => `/${n}`), dst, dest, forceDir, { ...copyOpts, rootOwned: true }));
          }
          for (const m of matched) {
            if (isAdd && fromContext && (await src.lstat(m)).isFile() && await isArchive(src, m)) {
              await this.extractInto(src, m, dst, dest, copyOpts);
              continue;
            }
            await copyInto(src, [m], dst, dest, forceDir, copyOpts);
          }
        });
        return { layer };
      });
    });
  }

  /** Downloads each URL into a scratch directory (mode 0600, mtime from Last-Modified, as Docker). */
  private async fetchUrls(urls: string[], checksum: string | undefined): Promise<{ dir: string; names: string[]; sum: string }> {
    const dir = path.join(this.deps.tmpDir, `urls-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(dir, { mode: 0o700 });
    const names: string[] = [];
    const sums: string[] = [];
    for (const url of urls) {
      const u = new URL(url);
      const name = decodeURIComponent(u.pathname.split('/').pop() || '') || '__unnamed__';
      let res: Response;
      try {
        res = await fetch(url, { redirect: 'follow' });
      } catch (e) {
        throw new InvalidParameterError(`failed to GET ${url}: ${(e as Error).message}`);
      }
      if (!res.ok || !res.body) throw new InvalidParameterError(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
      const file = path.join(dir, name);
      const h = createHash('sha256');
      const fh = await fsp.open(file, 'wx', 0o600);
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          h.update(chunk);
          await fh.write(chunk);
        }
      } finally {
        await fh.close();
      }
      const digest = `sha256:${h.digest('hex')}`;
      if (checksum !== undefined && checksum !== digest) {
        throw new InvalidParameterError(`digest mismatch for ${url}: expected ${checksum}, got ${digest}`);
      }
      await fsp.chmod(file, 0o600);
      const lm = res.headers.get('last-modified');
      const when = lm && !Number.isNaN(Date.parse(lm)) ? new Date(lm) : new Date(0);
      await fsp.utimes(file, when, when);
      names.push(name);
      sums.push(`${name}:${digest}:${when.getTime()}`);
    }
    return { dir, names, sum: sums.join(',') };
  }

  private async resolveChown(merged: string, spec: string): Promise<{ uid: number; gid: number }> {
    const [u, g] = spec.split(':', 2);
    const user = await resolveUser(merged, u);
    if (g === undefined || g === '') return { uid: user.uid, gid: /^\d+$/.test(u) ? user.uid : user.gid };
    const both = await resolveUser(merged, `${u}:${g}`);
    return { uid: both.uid, gid: both.gid };
  }

  /** ADD of a local archive: extracted (through the safe extractor) and copied into `dest`. */
  private async extractInto(src: InRoot, file: string, dst: InRoot, dest: string, opts: CopyOptions): Promise<void> {
    const tmp = path.join(this.deps.tmpDir, `add-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(tmp, { mode: 0o700 });
    try {
      const { stream } = await decompressed(src.createReadStream(file));
      await extractTar(stream, tmp);
      await InRoot.with(tmp, async (t) => {
        await dst.mkdirAll(dest, { mode: 0o755 });
        await copyInto(t, ['/'], dst, dest, true, { ...opts, rootOwned: false });
      });
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }
}

/**
 * Lines of stages that run at the same time, shown in the Dockerfile's order: the first
 * unfinished stage writes through, later ones are held until it is done.
 */
class OrderedOutput {
  private readonly held = new Map<number, string[]>();
  private readonly done = new Set<number>();
  private head = 0;
  constructor(private readonly order: number[], private readonly write: (s: string) => void) {}

  sink(idx: number): (s: string) => void {
    return (s) => {
      if (this.order[this.head] === idx) this.write(s);
      else (this.held.get(idx) ?? this.held.set(idx, []).get(idx)!).push(s);
    };
  }

  finish(idx: number): void {
    this.done.add(idx);
    while (this.head < this.order.length && this.done.has(this.order[this.head])) {
      this.head++;
      const next = this.order[this.head];
      if (next === undefined) break;
      for (const s of this.held.get(next) ?? []) this.write(s);
      this.held.delete(next);
    }
  }

  /** A failed build: everything held is shown, in order. */
  flushAll(): void {
    for (const idx of this.order.slice(this.head)) {
      for (const s of this.held.get(idx) ?? []) this.write(s);
      this.held.delete(idx);
    }
  }
}

/** Heredoc content with variables expanded (an unquoted delimiter), lines kept. */
function splitHeredoc(content: string, vars: Map<string, string>): string {
  return content.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string, op: string, alt: string, b: string) => {
    const v = vars.get(a ?? b);
    if (op === '-') return v ? v : alt;
    if (op === '+') return v ? alt : '';
    return v ?? '';
  });
}

/** True for a file ADD extracts: a tar, plain or compressed (gzip, bzip2, xz, zstd). */
async function isArchive(root: InRoot, file: string): Promise<boolean> {
  try {
    const { stream } = await decompressed(root.createReadStream(file));
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= 512) break;
    }
    stream.destroy();
    const head = Buffer.concat(chunks);
    return head.length >= 512 && head.toString('latin1', 257, 262) === 'ustar';
  } catch {
    return false;
  }
}
