// What the container operations share with the services that follow containers.
import type { ContainerRecord } from './Container';

/** Health checks as the container side drives them: started with a task, stopped at its exit. */
export interface HealthMonitor {
  start(c: ContainerRecord): Promise<void>;
  /** `exited`: the task is gone (a check in flight makes the status unhealthy, as Docker). */
  stop(c: ContainerRecord, exited: boolean): void;
}
