// compose v2's labels on what a project creates: `docker compose ps` lists berth's containers
// by them, and `berth compose` finds docker compose's.
import { COMPOSE_VERSION, LABEL, type Project, type Service } from '../model';

/** The labels every container of the project carries, whichever service it is. */
function projectLabels(project: Project): Record<string, string> {
  return {
    [LABEL.project]: project.name,
    [LABEL.workingDir]: project.working_dir,
    [LABEL.configFiles]: project.config_files.join(','),
    [LABEL.environmentFile]: project.env_files.join(','),
    [LABEL.version]: COMPOSE_VERSION,
  };
}

/** `db:service_healthy:false,cache:service_started:true`, as compose v2 writes depends_on. */
export function dependsOnLabel(service: Service): string {
  return Object.keys(service.depends_on).sort()
    .map((name) => `${name}:${service.depends_on[name].condition}:${service.depends_on[name].restart ?? false}`).join(',');
}

export interface ContainerLabelInput {
  number: number;
  configHash: string;
  oneoff: boolean;
  /** the image's id (sha256:...), when known */
  imageId?: string;
}

export function containerLabels(project: Project, service: Service, i: ContainerLabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    ...service.labels,
    ...projectLabels(project),
    [LABEL.service]: service.name,
    [LABEL.number]: String(i.number),
    [LABEL.oneoff]: i.oneoff ? 'True' : 'False',
    [LABEL.configHash]: i.configHash,
    [LABEL.dependsOn]: dependsOnLabel(service),
  };
  if (i.imageId) labels[LABEL.image] = i.imageId;
  return labels;
}

export function networkLabels(project: Project, key: string): Record<string, string> {
  return { ...project.networks[key].labels, [LABEL.project]: project.name, [LABEL.network]: key, [LABEL.version]: COMPOSE_VERSION };
}

export function volumeLabels(project: Project, key: string): Record<string, string> {
  return { ...project.volumes[key].labels, [LABEL.project]: project.name, [LABEL.volume]: key, [LABEL.version]: COMPOSE_VERSION };
}

/** The filter that lists a project's containers (or networks, volumes). */
export function projectFilter(project: string, extra: string[] = []): Record<string, string[]> {
  return { label: [`${LABEL.project}=${project}`, ...extra] };
}
