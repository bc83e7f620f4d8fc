// The images of a project's services: built through POST /build (context as a tar stream),
// pulled and pushed through the registry endpoints, as compose v2's pull policies say.
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { consumeJsonMessages } from '../../client/client';
import { isNotFound } from '../../client/errors';
import type { JsonMessage } from '../../client/types';
import { familiarRepo, parseNormalizedNamed, repoName } from '../../lib/reference';
import type { Project, Service } from '../model';
import { done, failed, working } from '../progress/progress';
import type { EngineContext } from './context';
import { ComposeError, UnsupportedKeyError } from './errors';
import { allSettledOrThrow } from './graph';
import { defaultImageName } from './names';

/** What the CLI hands the engine for images: packing a context honouring .dockerignore, credentials. */
export interface ImageTools {
  packContext(dir: string, dockerfile?: string): Promise<{ stream: Readable; dockerfile: string }>;
  /** X-Registry-Auth for an image */
  registryAuth?(image: string): string | undefined;
  /** where the build's own output goes (docker build's lines); nowhere when absent */
  buildOutput?: { write(s: string): unknown };
}

export type PullFlag = 'always' | 'missing' | 'never' | 'build' | undefined;

function splitRef(image: string): { repo: string; tag: string } {
  const r = parseNormalizedNamed(image);
  return { repo: repoName(r), tag: r.digest ?? r.tag ?? 'latest' };
}

export async function imageExists(ctx: EngineContext, image: string): Promise<string | undefined> {
  try {
    return (await ctx.client.imageInspect(image)).Id;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function pullImage(ctx: EngineContext, tools: ImageTools, service: Service, opts: { quiet?: boolean } = {}): Promise<void> {
  const image = service.image!;
  const id = service.name;
  if (!opts.quiet) working(ctx.progress, id, 'Pulling');
  try {
    const { repo, tag } = splitRef(image);
    const stream = await ctx.client.imagePull(repo, tag, { platform: service.platform, registryAuth: tools.registryAuth?.(image) });
    await consumeJsonMessages(stream);
    if (!opts.quiet) done(ctx.progress, id, 'Pulled');
  } catch (e) {
    if (!opts.quiet) failed(ctx.progress, id, 'Error', (e as Error).message);
    throw e;
  }
}

const BUILD_KEYS = new Set(['context', 'dockerfile', 'args', 'target', 'labels', 'network', 'no_cache', 'pull']);

export async function buildImage(ctx: EngineContext, tools: ImageTools, project: Project, service: Service, opts: { noCache?: boolean; pull?: boolean; args?: Record<string, string>; quiet?: boolean } = {}): Promise<string> {
  const b = service.build!;
  for (const k of Object.keys(b)) {
    if (BUILD_KEYS.has(k) || b[k] === undefined) continue;
    if (Array.isArray(b[k]) && (b[k] as unknown[]).length === 0) continue;
    throw new UnsupportedKeyError(service.name, `build.${k}`);
  }
  if (/^[a-z]+:\/\//.test(b.context) || b.context.startsWith('git@')) throw new UnsupportedKeyError(service.name, 'build.context', 'a remote context');
  const tag = defaultImageName(project, service);
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args)) {
    const val = v ?? project.environment[k];
    if (val !== undefined) args[k] = val;
  }
  Object.assign(args, opts.args);
  const id = `Service ${service.name}`;
  working(ctx.progress, id, 'Building');
  try {
    const packed = await tools.packContext(b.context, path.resolve(b.context, b.dockerfile ?? 'Dockerfile'));
    const stream = await ctx.client.imageBuild(packed.stream, {
      tags: [tag], dockerfile: packed.dockerfile, buildArgs: args, labels: b.labels, target: b.target,
      noCache: opts.noCache || b.no_cache, pull: opts.pull || b.pull, networkMode: b.network, quiet: opts.quiet,
    });
    await consumeJsonMessages(stream, (m: JsonMessage) => { if (m.stream && !opts.quiet) tools.buildOutput?.write(m.stream); });
    done(ctx.progress, id, 'Built');
  } catch (e) {
    failed(ctx.progress, id, 'Error', (e as Error).message);
    throw new ComposeError(`failed to build service "${service.name}": ${(e as Error).message}`);
  }
  return tag;
}

export async function pushImage(ctx: EngineContext, tools: ImageTools, service: Service, opts: { quiet?: boolean } = {}): Promise<void> {
  const image = service.image!;
  const id = `Pushing ${image}`;
  if (!opts.quiet) working(ctx.progress, id, 'Pushing');
  try {
    const r = parseNormalizedNamed(image);
    const stream = await ctx.client.imagePush(familiarRepo(r), r.tag ?? 'latest', { registryAuth: tools.registryAuth?.(image) });
    await consumeJsonMessages(stream);
    if (!opts.quiet) done(ctx.progress, id, 'Pushed');
  } catch (e) {
    if (!opts.quiet) failed(ctx.progress, id, 'Error', (e as Error).message);
    throw e;
  }
}

export interface EnsureImagesOptions {
  /** --build: build every service that has a build section */
  build?: boolean;
  /** --no-build: never build, a missing image of a build service is an error */
  noBuild?: boolean;
  /** --pull */
  pull?: PullFlag;
}

/**
 * Before containers are made: each service's image built or pulled as its pull_policy (or
 * --pull, --build) says. Returns the image id of each service.
 */
export async function ensureImages(ctx: EngineContext, tools: ImageTools, project: Project, services: string[], o: EnsureImagesOptions = {}): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const toBuild: Service[] = [];
  // one inspect per image, however many services run it
  const inspected = new Map<string, Promise<string | undefined>>();
  const presentAtStart = (image: string) => {
    let p = inspected.get(image);
    if (!p) inspected.set(image, p = imageExists(ctx, image));
    return p;
  };
  await allSettledOrThrow(services.map(async (name) => {
    const s = project.services[name];
    const image = defaultImageName(project, s);
    const policy = o.pull ?? (s.pull_policy === 'if_not_present' ? 'missing' : s.pull_policy) ?? 'missing';
    if (s.build && (o.build || policy === 'build')) {
      if (o.noBuild) throw new ComposeError(`service "${name}" needs a build and --no-build was given`);
      toBuild.push(s);
      return;
    }
    let present = await presentAtStart(image);
    if (s.image && (policy === 'always' || (policy === 'missing' && !present)) && !(s.build && !present && policy !== 'always')) {
      await pullImage(ctx, tools, s);
      present = await imageExists(ctx, image);
    }
    if (!present && s.build) {
      if (o.noBuild) throw new ComposeError(`service "${name}" has neither an image nor a build (--no-build): no image ${image}`);
      toBuild.push(s);
      return;
    }
    if (!present) throw new ComposeError(policy === 'never' ? `service "${name}": image ${image} is not present and pull_policy is never` : `no such image: ${image}`);
    ids.set(name, present);
  }));
  // builds one after the other: they share the machine's CPUs and the daemon's build cache
  for (const s of toBuild) {
    const tag = await buildImage(ctx, tools, project, s);
    ids.set(s.name, (await imageExists(ctx, tag))!);
  }
  return ids;
}

/** `compose build`: every service with a build section, one after the other. */
export async function buildServices(ctx: EngineContext, tools: ImageTools, project: Project, services: string[], o: { noCache?: boolean; pull?: boolean; args?: Record<string, string>; quiet?: boolean } = {}): Promise<void> {
  for (const name of services) {
    const s = project.services[name];
    if (s.build) await buildImage(ctx, tools, project, s, o);
  }
}

/** `compose pull`: the images of services that have one (build-only services are skipped). */
export async function pullServices(ctx: EngineContext, tools: ImageTools, project: Project, services: string[], o: { ignoreBuildable?: boolean; ignorePullFailures?: boolean; quiet?: boolean; missingOnly?: boolean } = {}): Promise<void> {
  const failures: string[] = [];
  await Promise.all(services.map(async (name) => {
    const s = project.services[name];
    if (!s.image || s.pull_policy === 'build' || (s.build && o.ignoreBuildable)) return;
    // --policy missing: what is there already stays as it is
    if (o.missingOnly && await imageExists(ctx, s.image)) return;
    try {
      await pullImage(ctx, tools, s, { quiet: o.quiet });
    } catch (e) {
      // a service that can be built may have an image nobody pushed yet
      if (s.build) { ctx.warn(`WARN[0000] ${name}: ${(e as Error).message}`); return; }
      if (o.ignorePullFailures) { ctx.warn(`WARN[0000] ${name}: ${(e as Error).message}`); return; }
      failures.push((e as Error).message);
    }
  }));
  if (failures.length) throw new ComposeError(failures.join('\n'));
}

/** `compose push`: services with both a build section and an image name. */
export async function pushServices(ctx: EngineContext, tools: ImageTools, project: Project, services: string[], o: { ignorePushFailures?: boolean; quiet?: boolean } = {}): Promise<void> {
  for (const name of services) {
    const s = project.services[name];
    if (!s.build || !s.image) continue;
    try {
      await pushImage(ctx, tools, s, o);
    } catch (e) {
      if (!o.ignorePushFailures) throw e;
      ctx.warn(`WARN[0000] ${name}: ${(e as Error).message}`);
    }
  }
}
