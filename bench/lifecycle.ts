// Issue 20's daemon-side figures, side by side in one run: `docker run --rm --network none
// busybox true`, create + start -a + rm, and `exec true`, each against berthd and a private
// dockerd 20.10 (when installed), with a bare `runc run` of the same rootfs as the floor (issue
// 20 defines it so) and a bare `crun run` beside it; berthd's run --rm also with `--runtime runc`
// when its default is crun.
// The candidates take turns within each round, so drift on a shared machine falls on all
// alike. Prints medians, the wall and CPU time of the client (docker CLI, or runc), and the
// ratios against the goals. Nothing asserted.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO, type TestDaemon } from '../test/helpers/daemon';
import { dockerdInstalled, startDockerd, type PeerDockerd } from './dockerd';
import { benchAlone } from './alone';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_LIFECYCLE_RUNS ?? process.env.BENCH_RUNS ?? 21);

export const median = (xs: number[]) => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1));
const ratio = (a: number, b: number) => Number((a / b).toFixed(2));

/** Wall time of one command, ms; throws on a failure. */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A bundle of the busybox rootfs from `runc spec`, running `true`: the floor. */
export function bareBundle(root: string, tar: string): { dir: string; state: string } {
  const dir = path.join(root, 'lifecycle-bare');
  fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  execFileSync('tar', ['-xf', tar, '-C', path.join(dir, 'rootfs')]);
  execFileSync('runc', ['spec'], { cwd: dir });
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['true'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, state: path.join(root, 'lifecycle-runc') };
}

const crunInstalled = () => spawnSync('crun', ['--version'], { stdio: 'ignore' }).status === 0;

interface Engine { name: string; env: NodeJS.ProcessEnv; sleeper: string }

async function sleeper(env: NodeJS.ProcessEnv): Promise<string> {
  return (await run('docker', ['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600'], { env })).stdout.trim();
}

/** create + start -a + rm, as three CLI calls (what `docker run` without --rm then rm makes). */
function createStartRm(env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const id = execFileSync('docker', ['create', '--network', 'none', 'busybox', 'true'], { env, encoding: 'utf8' }).trim();
  execFileSync('docker', ['start', '-a', id], { env, stdio: 'ignore' });
  execFileSync('docker', ['rm', id], { env, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function lifecycleBench(d: TestDaemon): Promise<Record<string, unknown>> {
  let peer: PeerDockerd | undefined;
  const engines: Engine[] = [{ name: 'berth', env: d.env, sleeper: await sleeper(d.env) }];
  try {
    if (dockerdInstalled() && process.env.BENCH_LIFECYCLE_DOCKERD !== '0') {
      peer = await startDockerd();
      await run('sh', [`${REPO}/scripts/busybox-rootfs.sh`, `${peer.root}/busybox.tar`]);
      await run('docker', ['import', '-c', 'CMD ["sh"]', `${peer.root}/busybox.tar`, 'busybox'], { env: peer.env });
      engines.push({ name: 'dockerd', env: peer.env, sleeper: await sleeper(peer.env) });
    }
    const tar = path.join(d.root, 'busybox.tar');
    const bare = bareBundle(d.root, tar);
    const fig: Record<string, Record<string, number[]>> = { run_rm_none: {}, create_start_rm: {}, exec_true: {}, exec_i_true: {} };
    for (const f of Object.values(fig)) { for (const e of engines) f[e.name] = []; }
    fig.run_rm_none.bare_runc = [];
    const bareCrun = crunInstalled();
    if (bareCrun) fig.run_rm_none.bare_crun = [];
    const info = JSON.parse((await run('docker', ['info', '--format', '{{json .}}'], { env: d.env })).stdout) as { DefaultRuntime: string };
    const alsoRunc = info.DefaultRuntime !== 'runc';
    if (alsoRunc) fig.run_rm_none.berth_runc = [];
    const runArgs = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
    for (let i = 0; i <= RUNS; i++) {
      const keep = i > 0; // round 0 warms every path up
      for (const e of engines) {
        const a = timed('docker', runArgs, e.env);
        const b = createStartRm(e.env);
        const c = timed('docker', ['exec', e.sleeper, 'true'], e.env);
        // -i: the stdin half of the session too (the CLI's stdin is /dev/null: EOF at once)
        const ci = timed('docker', ['exec', '-i', e.sleeper, 'true'], e.env);
        if (keep) { fig.run_rm_none[e.name].push(a); fig.create_start_rm[e.name].push(b); fig.exec_true[e.name].push(c); fig.exec_i_true[e.name].push(ci); }
      }
      const r = timed('runc', ['--root', bare.state, 'run', '-b', bare.dir, `lifecycle-${process.pid}-${i}`]);
      if (keep) fig.run_rm_none.bare_runc.push(r);
      if (bareCrun) {
        const cr = timed('crun', ['--root', `${bare.state}-crun`, 'run', '-b', bare.dir, `lifecycle-${process.pid}-${i}`]);
        if (keep) fig.run_rm_none.bare_crun.push(cr);
      }
      if (alsoRunc) {
        const br = timed('docker', [runArgs[0], '--runtime', 'runc', ...runArgs.slice(1)], d.env);
        if (keep) fig.run_rm_none.berth_runc.push(br);
      }
    }
    const out: Record<string, unknown> = {
      runs: RUNS, load_average: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), berth_default_runtime: info.DefaultRuntime,
    };
    for (const [name, by] of Object.entries(fig)) out[name + '_p50_ms'] = Object.fromEntries(Object.entries(by).map(([k, xs]) => [k, median(xs)]));
    const p = (f: string, k: string) => (out[f + '_p50_ms'] as Record<string, number>)[k];
    const ratios: Record<string, unknown> = { run_rm_none_over_bare_runc: { value: ratio(p('run_rm_none', 'berth'), p('run_rm_none', 'bare_runc')), goal: 2 } };
    if (bareCrun) ratios.run_rm_none_over_bare_crun = { value: ratio(p('run_rm_none', 'berth'), p('run_rm_none', 'bare_crun')) };
    if (peer) {
      ratios.run_rm_none_over_dockerd = { value: ratio(p('run_rm_none', 'berth'), p('run_rm_none', 'dockerd')), goal: 0.25 };
      ratios.create_start_rm_over_dockerd = { value: ratio(p('create_start_rm', 'berth'), p('create_start_rm', 'dockerd')), goal: 0.3 };
      ratios.exec_true_over_dockerd = { value: ratio(p('exec_true', 'berth'), p('exec_true', 'dockerd')), goal: 0.5 };
      ratios.exec_i_true_over_dockerd = { value: ratio(p('exec_i_true', 'berth'), p('exec_i_true', 'dockerd')) };
    }
    out.ratios = ratios;
    return out;
  } finally {
    for (const e of engines) await run('docker', ['rm', '-f', e.sleeper], { env: e.env }).catch(() => undefined);
    await peer?.stop();
  }
}

if (require.main === module) benchAlone(lifecycleBench);
