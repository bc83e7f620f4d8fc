// What `compose ps` knows of a container: the list entry plus, from an inspect, the health of a
// running container and the exit code of a stopped one (compose v2's api.ContainerSummary).
import type { Client } from '../../client/client';
import type { ContainerSummary } from '../../client/types';
import { LABEL } from '../model';
import { canonicalName, ContainerQuery, projectContainers } from './containers';

export interface PortPublisher {
  URL: string;
  TargetPort: number;
  PublishedPort: number;
  Protocol: string;
}

export interface ServiceContainer {
  ID: string;
  Name: string;
  Names: string[];
  Image: string;
  Command: string;
  Project: string;
  Service: string;
  Created: number;
  State: string;
  Status: string;
  Health: string;
  ExitCode: number;
  Publishers: PortPublisher[];
  Labels: Record<string, string>;
  SizeRw: number;
  SizeRootFs: number;
  Mounts: string[];
  LocalVolumes: number;
  Networks: string[];
}

export async function serviceContainers(client: Client, project: string, q: ContainerQuery = {}): Promise<ServiceContainer[]> {
  const list = await projectContainers(client, project, q);
  return Promise.all(list.map(async (c) => {
    const st = (await client.containerInspect(c.Id)).State as { Status: string; ExitCode: number; Health?: { Status?: string } };
    let health = '', exitCode = 0;
    if (st.Status === 'running') health = st.Health?.Status ?? '';
    else if (st.Status === 'exited' || st.Status === 'dead') exitCode = st.ExitCode;
    return toServiceContainer(c, health, exitCode);
  }));
}

export function toServiceContainer(c: ContainerSummary, health: string, exitCode: number): ServiceContainer {
  const ports = [...(c.Ports ?? [])].sort((a, b) => a.PrivatePort - b.PrivatePort);
  const mounts = (c.Mounts ?? []) as Array<{ Name?: string; Source?: string; Driver?: string }>;
  return {
    ID: c.Id,
    Name: canonicalName(c),
    Names: c.Names ?? [],
    Image: c.Image,
    Command: c.Command,
    Project: c.Labels?.[LABEL.project] ?? '',
    Service: c.Labels?.[LABEL.service] ?? '',
    Created: c.Created,
    State: c.State,
    Status: c.Status,
    Health: health,
    ExitCode: exitCode,
    Publishers: ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    Labels: c.Labels ?? {},
    SizeRw: c.SizeRw ?? 0,
    SizeRootFs: c.SizeRootFs ?? 0,
    Mounts: mounts.map((m) => m.Name || m.Source || ''),
    LocalVolumes: mounts.filter((m) => m.Driver === 'local').length,
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
  };
}
