// The JSON shape of `GET /exec/{id}/json`, as Docker's, from the engine's exec record.
import type { ExecRecord } from '../../engine/exec/ExecService';

export function execInspectView(r: ExecRecord): Record<string, unknown> {
  const [entrypoint, ...args] = r.Config.Cmd ?? [];
  return {
    ID: r.ID,
    Running: r.Running,
    ExitCode: r.ExitCode,
    ProcessConfig: {
      tty: !!r.Config.Tty, entrypoint, arguments: args, privileged: !!r.Config.Privileged,
      ...(r.Config.User ? { user: r.Config.User } : {}),
    },
    OpenStdin: r.OpenStdin,
    OpenStderr: r.OpenStderr,
    OpenStdout: r.OpenStdout,
    CanRemove: false,
    ContainerID: r.ContainerID,
    DetachKeys: r.DetachKeys,
    Pid: r.Pid,
  };
}
