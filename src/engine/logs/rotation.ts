// Wires log rotation to the containers' lifecycle: a rotator per running container whose log
// driver options ask for one (json-file/k8s-file with max-size, local by default).
import type { ContainerRecord } from '../containers/Container';
import type { ContainerService } from '../containers/ContainerService';
import { rotationOf } from './options';
import { LogRotator, forgetLogState } from './rotate';

export function attachLogRotation(svc: ContainerService): void {
  const rotators = new Map<string, LogRotator>();
  const stop = (c: ContainerRecord) => {
    rotators.get(c.Id)?.close();
    rotators.delete(c.Id);
  };
  const start = (c: ContainerRecord) => {
    stop(c);
    const lc = c.HostConfig.LogConfig ?? { Type: 'json-file', Config: {} };
    const policy = rotationOf(lc.Type, lc.Config ?? {});
    if (!policy) return;
    const r = new LogRotator(svc.logPath(c.Id), policy, { reopen: () => svc.runtime.reopenLog(c.Id) });
    rotators.set(c.Id, r);
    r.start();
  };
  svc.lifecycle.on('started', start);
  svc.lifecycle.on('stopped', stop);
  svc.lifecycle.on('removed', (c: ContainerRecord) => { stop(c); forgetLogState(svc.logPath(c.Id)); });
  // Containers re-adopted at daemon start (their log may have grown while berthd was away).
  for (const c of svc.store.all()) if (c.State.Running && !c.State.Restarting) start(c);
}
