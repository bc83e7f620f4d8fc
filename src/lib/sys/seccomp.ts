// libseccomp in the native addon (native/seccomp.c): an OCI linux.seccomp section compiled to
// the BPF program the kernel runs, on libuv's threadpool, as crun 1.8.1 compiles it itself.
import { loadNative } from './native';

/** The fields of an OCI linux.seccomp section the program is made of. */
export interface SeccompSection {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: readonly string[];
  syscalls?: readonly {
    names: readonly string[];
    action: string;
    errnoRet?: number;
    args?: readonly { index: number; value: number | bigint; valueTwo?: number | bigint; op: string }[];
  }[];
}

export interface CompiledSeccomp {
  /** struct sock_filter[], as seccomp(SECCOMP_SET_MODE_FILTER) takes it. */
  bpf: Buffer;
  /** Names this libseccomp does not know, skipped as crun skips them (with a warning there). */
  unknown: string[];
}

/**
 * Compiles `section`; `failUnknown` refuses a name libseccomp does not know, as crun does with
 * the run.oci.seccomp_fail_unknown_syscall annotation. Rejects with crun's words for what crun
 * refuses (an unknown action, operator or architecture, an errno on an action without one),
 * with a TypeError for a field of the wrong type.
 */
export async function compileSeccompBpf(section: SeccompSection, failUnknown = false): Promise<CompiledSeccomp> {
  // async: a section the addon cannot read (a negative value, a NUL in a name) rejects as well
  return loadNative().compileSeccomp(section, failUnknown);
}
