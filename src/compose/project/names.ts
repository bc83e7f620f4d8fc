// Names compose v2 gives what it creates, so `docker compose` and `berth compose` find each other's.
import type { Project, Service } from '../model';

/** compose v2's separator between project, service and number. */
export const SEPARATOR = '-';

/** The name of container `number` of `service`: container_name, else `project-service-N`. */
export function containerName(project: Project, service: Service, number: number): string {
  if (service.container_name) return service.container_name;
  return [project.name, service.name, String(number)].join(SEPARATOR);
}

/** The name of a one-off (`compose run`) container: `project-service-run-<12 hex>`. */
export function oneoffContainerName(project: Project, service: Service, suffix: string): string {
  return [project.name, service.name, 'run', suffix].join(SEPARATOR);
}

/** The name of an image `compose build` makes for a service without `image:`. */
export function defaultImageName(project: Project, service: Service): string {
  return service.image ?? [project.name, service.name].join(SEPARATOR);
}

/** The temporary name of a new container while the one it replaces still holds the name. */
export function replacementName(oldId: string, name: string): string {
  return `${oldId.slice(0, 12)}_${name}`;
}

/** `Container x-web-1`, `Network x_default`, `Volume x_data`: the ids of progress lines. */
export const progressId = {
  container: (name: string) => `Container ${name.replace(/^\//, '')}`,
  network: (name: string) => `Network ${name}`,
  volume: (name: string) => `Volume ${name}`,
  image: (name: string) => `Image ${name}`,
};
