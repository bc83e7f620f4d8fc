// Compiles a resolved seccomp profile with libseccomp as runc 1.1 does (test/fixtures/seccomp-compile.c,
// built once per process with gcc and libseccomp-dev): for comparing the filters two profiles
// make (test/integration/seccomp-compile.test.ts) and timing the compile (bench/seccomp.ts).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OciSeccomp } from '../../src/runtime/seccomp';

const SOURCE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'seccomp-compile.c');
let compiler: string | null | undefined;

/** The built compiler, or null where gcc or libseccomp's headers are missing. Removed at exit. */
export function seccompCompiler(): string | null {
  if (compiler !== undefined) return compiler;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-seccomp-compile-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'seccomp-compile');
  compiler = spawnSync('gcc', ['-O1', '-o', out, SOURCE, '-lseccomp']).status === 0 ? out : null;
  return compiler;
}

/** libseccomp's numbers for the OCI operators. */
const OPS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};
const act = (a: string, errno?: number) => `${a.replace(/^SCMP_ACT_/, '').toLowerCase()} ${errno ?? 1}`;

/** seccomp-compile's input for `s` (an errno without a number is EPERM, as in runc). */
function compilerInput(s: OciSeccomp): string {
  const lines = [`D ${act(s.defaultAction, s.defaultErrnoRet)}`];
  for (const a of s.architectures ?? []) lines.push(`A ${a.replace(/^SCMP_ARCH_/, '').toLowerCase()}`);
  for (const r of s.syscalls) {
    const args = r.args ?? [];
    const conds = args.map((x) => ` ${x.index} ${OPS[x.op]} ${x.value} ${x.valueTwo ?? 0}`).join('');
    for (const n of r.names) lines.push(`S ${act(r.action, r.errnoRet)} ${n} ${args.length}${conds}`);
  }
  return lines.join('\n') + '\n';
}

/** Runs the compiler on `s` in a process of its own; its stdout is the BPF program. */
export function compileSeccomp(s: OciSeccomp): SpawnSyncReturns<Buffer> {
  const bin = seccompCompiler();
  if (!bin) throw new Error('seccomp-compile could not be built (gcc, libseccomp-dev)');
  const out = spawnSync(bin, { input: compilerInput(s) });
  if (out.status !== 0) throw new Error(`seccomp-compile exited ${out.status}`);
  return out;
}
