// The seccomp filter precompiled for a runtime that takes it. crun (1.8 here) installs the BPF
// program of the annotation run.oci.seccomp_bpf_data instead of compiling linux.seccomp with
// libseccomp at every start (~630 rules of two architectures: 7-8 ms of CPU a start), so berth
// compiles it once per profile and target, as crun 1.8.1 would (native/seccomp.c), and hands it
// over. linux.seccomp stays in the spec as it is: crun still takes its flags (none: it applies
// SECCOMP_FILTER_FLAG_SPEC_ALLOW) and listenerPath from there, and `crun exec` installs the
// program crun kept in its state. Any other runtime (runc 1.1 knows no such annotation) gets
// linux.seccomp alone.
import { compileSeccompBpf } from '../lib/sys/seccomp';
import { log } from '../lib/log';
import type { OciSeccomp } from './seccomp';
import type { RuntimeConfig } from './types';
import { RuntimeError } from './errors';
import { runtimeVersionText } from './versionProbe';

export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';

/** The first crun whose compile native/seccomp.c follows (and which takes the annotation). */
const CRUN_SINCE: readonly [number, number] = [1, 8];

/**
 * Does `crun --version` say a crun that takes a precompiled filter: 1.8 or later, built with
 * seccomp (+SECCOMP; without it crun installs no filter at all, from either source)?
 */
export function crunTakesSeccompBpf(versionOutput: string): boolean {
  const m = /^crun version (\d+)\.(\d+)/.exec(versionOutput.trimStart());
  if (!m || !/(?:^|\s)\+SECCOMP(?:\s|$)/m.test(versionOutput)) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > CRUN_SINCE[0] || (major === CRUN_SINCE[0] && minor >= CRUN_SINCE[1]);
}

/** Whether `runtime` takes the filter as run.oci.seccomp_bpf_data (false when it cannot be asked). */
export async function takesSeccompBpf(runtime: RuntimeConfig): Promise<boolean> {
  const out = await runtimeVersionText(runtime.path);
  return out !== undefined && crunTakesSeccompBpf(out);
}

/**
 * The program of each filter, base64 (the annotation's encoding), kept as long as the filter
 * object is: toOciSeccomp shares one per profile and target and bounds how many it keeps, so
 * these go with them (~7 KB each for the default profile).
 */
const compiled = new WeakMap<OciSeccomp, Promise<string>>();

/** The filter compiled, base64; RuntimeError with crun's words when crun would refuse it. */
export function seccompBpfOf(seccomp: OciSeccomp): Promise<string> {
  let bpf = compiled.get(seccomp);
  if (!bpf) {
    bpf = compileSeccompBpf(seccomp).then(
      (r) => {
        if (r.unknown.length) log.debug('seccomp: names libseccomp does not know, skipped', { names: r.unknown });
        return r.bpf.toString('base64');
      },
      (e: Error) => {
        compiled.delete(seccomp);
        throw new RuntimeError(`seccomp: ${e.message}`, { cause: e });
      },
    );
    compiled.set(seccomp, bpf);
  }
  return bpf;
}

/** run.oci.seccomp_bpf_data's value for a container with this filter under `runtime`, or undefined. */
export async function precompiledSeccomp(seccomp: OciSeccomp | undefined, runtime: RuntimeConfig): Promise<string | undefined> {
  if (!seccomp || !(await takesSeccompBpf(runtime))) return undefined;
  return seccompBpfOf(seccomp);
}
