// What the compose commands of the engine side share: the engine's context (client, progress on
// stderr, warnings) and its image tools (build contexts as `docker build` packs them, credentials).
import type { Command } from 'commander';
import { Cli, StatusError } from '../../cli';
import type { packContext as PackContext } from '../../buildcontext';
import { parseNormalizedNamed } from '../../../lib/reference';
import type { EngineContext } from '../../../compose/project/context';
import type { ImageTools, PullFlag } from '../../../compose/project/images';
import { createProgress, type Progress, type ProgressMode } from '../../../compose/progress/progress';
import { DRY_RUN_PREFIX, dryRunClient } from '../../../compose/project/dryrun';
import { registryAuthFor } from '../registry';
import { composeGlobals, type ComposeGlobalOptions } from './index';

export interface EngineSession {
  ctx: EngineContext;
  tools: ImageTools;
  globals: ComposeGlobalOptions;
  /** --parallel as the engine takes it (0: no bound) */
  parallel: number;
  progress: Progress;
}

export function engineSession(cmd: Command, cli: Cli, o: { quiet?: boolean; title?: string } = {}): EngineSession {
  const globals = composeGlobals(cmd);
  const mode: ProgressMode = o.quiet ? 'quiet' : globals.progress;
  const err = cli.err as NodeJS.WriteStream;
  const progress = createProgress(err, globals.ansi === 'never' && mode === 'auto' ? 'plain' : mode, o.title, globals.dryRun ? DRY_RUN_PREFIX : '');
  const ctx: EngineContext = { client: globals.dryRun ? dryRunClient(cli.client) : cli.client, progress, warn: (m) => progress.message(m) };
  const tools: ImageTools = {
    // the build context's packer (and .dockerignore's matcher) only for a build
    packContext: (...a: Parameters<typeof PackContext>) => (require('../../buildcontext') as typeof import('../../buildcontext')).packContext(...a),
    registryAuth: (image) => registryAuthFor(cli, parseNormalizedNamed(image)),
    buildOutput: o.quiet ? undefined : { write: (s: string) => { for (const line of s.replace(/\n$/, '').split('\n')) progress.message(line); } },
  };
  return { ctx, tools, globals, parallel: globals.parallel > 0 ? globals.parallel : 0, progress };
}

/** Runs `fn` with the session's progress stopped after it, whatever happens. */
export async function withEngine<T>(cmd: Command, cli: Cli, fn: (s: EngineSession) => Promise<T>, o: { quiet?: boolean; title?: string } = {}): Promise<T> {
  const s = engineSession(cmd, cli, o);
  try {
    return await fn(s);
  } finally {
    s.progress.stop();
  }
}

/** `--scale web=3` flags as a map. */
export function parseScale(list: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    if (!m) throw new StatusError(1, `invalid --scale option "${item}": expected SERVICE=NUMBER`);
    out[m[1]] = parseInt(m[2], 10);
  }
  return out;
}

/** --pull of up, create and run: compose's words, `policy` (the default) leaves each service's pull_policy. */
export function pullFlag(v: string | undefined): PullFlag {
  if (v === undefined || v === 'policy') return undefined;
  if (!['always', 'missing', 'never', 'build'].includes(v)) throw new StatusError(1, `invalid --pull option "${v}"`);
  return v as PullFlag;
}
