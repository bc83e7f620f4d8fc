// The resolved compose model: what the loader produces and `berth compose config` prints.
// Every short syntax is in its long form, paths are absolute, variables are interpolated,
// env_file is folded into environment, inactive profiles are set aside, extends/include are
// applied. Keys keep the file's snake_case names so that printing the model is printing YAML.
// The engine (compose/project) reads only this; it never sees a file.

export type Duration = string; // a Go duration as compose prints it: "30s", "1m30s", "500ms"

export interface Project {
  name: string;
  /** absolute; relative paths in the files were resolved against it */
  working_dir: string;
  /** absolute paths of the files, in the order they were merged */
  config_files: string[];
  /** absolute paths of the env files that were read (.env or --env-file) */
  env_files: string[];
  /** the variables interpolation saw (process env over .env) */
  environment: Record<string, string>;
  services: Record<string, Service>;
  /** services whose profiles are not active: kept so `--profile`-less commands can name them in errors */
  disabled_services: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, FileObject>;
  configs: Record<string, FileObject>;
}

export interface Service {
  /** the key in `services:` (not printed by config) */
  name: string;
  image?: string;
  build?: Build;
  pull_policy?: 'always' | 'never' | 'missing' | 'build' | 'if_not_present';
  platform?: string;
  container_name?: string;
  profiles?: string[];

  command?: string[] | null;
  entrypoint?: string[] | null;
  /** null: `FOO` listed without a value and not set in the environment: left unset */
  environment: Record<string, string | null>;
  labels: Record<string, string>;
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  tty?: boolean;
  stdin_open?: boolean;
  init?: boolean;
  privileged?: boolean;
  read_only?: boolean;
  stop_signal?: string;
  stop_grace_period?: Duration;
  restart?: string;

  ports: PortConfig[];
  /** "80", "8000-8010", "53/udp" */
  expose: string[];
  volumes: VolumeMount[];
  tmpfs: string[];
  /** network key (in Project.networks) → attachment; empty when network_mode is set */
  networks: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  /** "host:ip" entries */
  extra_hosts: string[];
  dns: string[];
  dns_search: string[];
  dns_opt: string[];
  mac_address?: string;

  depends_on: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  deploy?: Deploy;
  /** the number of containers: `scale`, or `deploy.replicas` (the loader copies it here); absent means 1 */
  scale?: number;

  cap_add: string[];
  cap_drop: string[];
  security_opt: string[];
  ulimits: Record<string, { soft: number; hard: number }>;
  sysctls: Record<string, string>;
  devices: DeviceMapping[];
  logging?: { driver?: string; options?: Record<string, string> };
  secrets: FileReference[];
  configs: FileReference[];

  /** every other key the file set, as written (after interpolation); the engine refuses what it does not apply */
  [key: string]: unknown;
}

export interface Build {
  /** absolute path (or a URL, kept as is) */
  context: string;
  /** relative to context, as written; default "Dockerfile" */
  dockerfile?: string;
  dockerfile_inline?: string;
  args: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  network?: string;
  extra_hosts?: string[];
  shm_size?: number;
  no_cache?: boolean;
  pull?: boolean;
  [key: string]: unknown;
}

export interface PortConfig {
  target: number;
  /** "8080", "8080-8081", or absent for a random port */
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode: 'ingress' | 'host';
  name?: string;
  app_protocol?: string;
}

export interface VolumeMount {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  /** volume key (in Project.volumes) for named volumes, absolute host path for binds, absent for anonymous volumes and tmpfs */
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z' };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  priority?: number;
  mac_address?: string;
  [key: string]: unknown;
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  restart: boolean;
  required: boolean;
}

export interface Healthcheck {
  test?: string[];
  interval?: Duration;
  timeout?: Duration;
  retries?: number;
  start_period?: Duration;
  start_interval?: Duration;
  disable?: boolean;
}

export interface Deploy {
  replicas?: number;
  resources?: {
    limits?: { cpus?: string; memory?: string; pids?: number };
    reservations?: { cpus?: string; memory?: string };
  };
  restart_policy?: { condition?: 'none' | 'on-failure' | 'any'; delay?: Duration; max_attempts?: number; window?: Duration };
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface DeviceMapping {
  source: string;
  target: string;
  permissions: string;
}

export interface FileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Network {
  /** the name on the engine: `<project>_<key>` unless `name:` or external */
  name: string;
  driver?: string;
  driver_opts: Record<string, string>;
  ipam?: {
    driver?: string;
    config?: Array<{ subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }>;
    options?: Record<string, string>;
  };
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  labels: Record<string, string>;
  external?: boolean;
  [key: string]: unknown;
}

export interface Volume {
  /** the name on the engine: `<project>_<key>` unless `name:` or external */
  name: string;
  driver?: string;
  driver_opts: Record<string, string>;
  labels: Record<string, string>;
  external?: boolean;
  [key: string]: unknown;
}

export interface FileObject {
  name: string;
  /** absolute */
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  labels?: Record<string, string>;
}

/** A compose file that cannot be loaded: names the file, the path in the document, and what was expected. */
export class ComposeFileError extends Error {
  constructor(message: string, readonly file?: string, readonly docPath?: string) {
    super(message);
    this.name = 'ComposeFileError';
  }
}

/** The labels compose v2 sets, so that `docker compose` and `berth compose` see each other's projects. */
export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  environmentFile: 'com.docker.compose.project.environment_file',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  replace: 'com.docker.compose.replace',
} as const;

/** The compose version berth reports in labels and `berth compose version` (compose v2 it is compatible with). */
export const COMPOSE_VERSION = '2.29.7';
