// berth version / berth info
import { Command } from 'commander';
import { CLIENT_VERSION, MAX_API_VERSION } from '../../client/client';
import type { SystemInfo, VersionInfo } from '../../client/types';
import { Cli, errorText, StatusError } from '../cli';
import { Template, baseFuncs } from '../format/template';
import { tabwrite } from '../format/tabwriter';
import { bytesSize } from '../format/units';

const VERSION_TEMPLATE = `{{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:\t{{.GoVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:\t{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' } as Record<string, string>)[process.arch] ?? process.arch;
}

export function registerVersion(parent: Command, cli: Cli): void {
  parent.command('version')
    .description('Show the Docker version information')
    .usage('[OPTIONS]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      let server: VersionInfo | undefined;
      let serverErr: unknown;
      try {
        server = await cli.client.version();
      } catch (e) {
        serverErr = e;
      }
      const apiVersion = cli.client.negotiatedVersion ?? MAX_API_VERSION;
      const data = {
        Client: {
          Platform: { Name: 'Berth' }, Version: CLIENT_VERSION, APIVersion: apiVersion, DefaultAPIVersion: MAX_API_VERSION,
          GoVersion: `node ${process.version}`, GitCommit: 'unknown', BuildTime: '', Os: process.platform, Arch: goArch(),
          Context: 'default',
        },
        Server: server ? {
          ...server,
          Platform: server.Platform ?? { Name: '' },
          Components: server.Components ?? [{
            Name: 'Engine', Version: server.Version, Details: {
              ApiVersion: server.ApiVersion, MinAPIVersion: server.MinAPIVersion ?? '', GoVersion: server.GoVersion ?? '',
              GitCommit: server.GitCommit ?? '', BuildTime: server.BuildTime ?? '', Os: server.Os, Arch: server.Arch,
              Experimental: String(!!server.Experimental),
            },
          }],
        } : undefined,
        ServerOK: !!server,
      };
      // Go's field is APIVersion (JSON key ApiVersion): a template names the field, {{json}} the key
      if (data.Server) Object.defineProperty(data.Server, 'APIVersion', { value: data.Server.ApiVersion, enumerable: false });
      const funcs = {
        ...baseFuncs,
        getDetailsOrder: (c: unknown) => Object.keys(((c as { Details?: Record<string, string> }).Details) ?? {}).sort(),
      };
      try {
        if (o.format) {
          cli.println(new Template(o.format === 'json' ? '{{json .}}' : o.format, funcs).execute(data));
        } else {
          const text = new Template(VERSION_TEMPLATE, funcs).execute(data);
          cli.println(tabwrite(text, { minwidth: 20, padding: 1 }));
        }
      } catch (e) {
        throw new StatusError(1, `template: ${(e as Error).message}`);
      }
      if (serverErr) throw new StatusError(1, errorText(serverErr));
    });
}

function yesno(b: unknown): string {
  return b ? 'true' : 'false';
}

export function renderInfo(info: SystemInfo): string {
  const L: string[] = [];
  const g = info as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const p = (s: string) => L.push(s);
  p('Server:');
  p(` Containers: ${g.Containers ?? 0}`);
  p(`  Running: ${g.ContainersRunning ?? 0}`);
  p(`  Paused: ${g.ContainersPaused ?? 0}`);
  p(`  Stopped: ${g.ContainersStopped ?? 0}`);
  p(` Images: ${g.Images ?? 0}`);
  p(` Server Version: ${g.ServerVersion ?? ''}`);
  p(` Storage Driver: ${g.Driver ?? ''}`);
  for (const [k, v] of (g.DriverStatus ?? []) as [string, string][]) p(`  ${k}: ${v}`);
  p(` Logging Driver: ${g.LoggingDriver ?? ''}`);
  p(` Cgroup Driver: ${g.CgroupDriver ?? ''}`);
  p(` Cgroup Version: ${g.CgroupVersion ?? ''}`);
  p(' Plugins:');
  p(`  Volume: ${(g.Plugins?.Volume ?? []).join(' ')}`);
  p(`  Network: ${(g.Plugins?.Network ?? []).join(' ')}`);
  if (g.Plugins?.Authorization?.length) p(`  Authorization: ${g.Plugins.Authorization.join(' ')}`);
  p(`  Log: ${(g.Plugins?.Log ?? []).join(' ')}`);
  p(` Swarm: ${g.Swarm?.LocalNodeState ?? 'inactive'}`);
  p(` Runtimes: ${Object.keys(g.Runtimes ?? {}).sort().join(' ')}`);
  p(` Default Runtime: ${g.DefaultRuntime ?? ''}`);
  p(` Init Binary: ${g.InitBinary ?? ''}`);
  p(` containerd version: ${g.ContainerdCommit?.ID ?? ''}`);
  p(` runc version: ${g.RuncCommit?.ID ?? ''}`);
  p(` init version: ${g.InitCommit?.ID ?? ''}`);
  if (g.SecurityOptions?.length) {
    p(' Security Options:');
    for (const so of g.SecurityOptions as string[]) {
      const kv: Record<string, string> = {};
      for (const part of so.split(',')) {
        const i = part.indexOf('=');
        if (i > 0) kv[part.slice(0, i)] = part.slice(i + 1);
      }
      if (!kv.name) { p(`  ${so}`); continue; }
      p(`  ${kv.name}`);
      for (const [k, v] of Object.entries(kv)) {
        if (k === 'name') continue;
        p(`   ${k.charAt(0).toUpperCase() + k.slice(1)}: ${v}`);
      }
    }
  }
  p(` Kernel Version: ${g.KernelVersion ?? ''}`);
  p(` Operating System: ${g.OperatingSystem ?? ''}`);
  p(` OSType: ${g.OSType ?? ''}`);
  p(` Architecture: ${g.Architecture ?? ''}`);
  p(` CPUs: ${g.NCPU ?? 0}`);
  p(` Total Memory: ${bytesSize(g.MemTotal ?? 0)}`);
  p(` Name: ${g.Name ?? ''}`);
  p(` ID: ${g.ID ?? ''}`);
  p(` Docker Root Dir: ${g.DockerRootDir ?? ''}`);
  p(` Debug Mode: ${yesno(g.Debug)}`);
  if (g.HttpProxy) p(` HTTP Proxy: ${g.HttpProxy}`);
  if (g.HttpsProxy) p(` HTTPS Proxy: ${g.HttpsProxy}`);
  if (g.NoProxy) p(` No Proxy: ${g.NoProxy}`);
  if (g.Labels?.length) {
    p(' Labels:');
    for (const l of g.Labels) p(`  ${l}`);
  }
  p(` Experimental: ${yesno(g.ExperimentalBuild)}`);
  const insecure = g.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  const insecureIdx = Object.values(g.RegistryConfig?.IndexConfigs ?? {}).filter((x: any) => x && x.Secure === false).map((x: any) => x.Name); // eslint-disable-line @typescript-eslint/no-explicit-any
  if (insecure.length || insecureIdx.length) {
    p(' Insecure Registries:');
    for (const x of [...insecureIdx, ...insecure]) p(`  ${x}`);
  }
  if (g.RegistryConfig?.Mirrors?.length) {
    p(' Registry Mirrors:');
    for (const m of g.RegistryConfig.Mirrors) p(`  ${m}`);
  }
  p(` Live Restore Enabled: ${yesno(g.LiveRestoreEnabled)}`);
  return L.join('\n') + '\n';
}

export function registerInfo(parent: Command, cli: Cli): void {
  parent.command('info')
    .description('Display system-wide information')
    .usage('[OPTIONS]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      if (o.format) {
        const info = await cli.client.info();
        cli.println(new Template(o.format === 'json' ? '{{json .}}' : o.format).execute(info));
        return;
      }
      cli.println('Client:');
      cli.println(` Version:    ${CLIENT_VERSION}`);
      cli.println(' Context:    default');
      cli.println(' Debug Mode: false');
      cli.println('');
      let info: SystemInfo;
      try {
        info = await cli.client.info();
      } catch (e) {
        throw new StatusError(1, errorText(e));
      }
      cli.println(renderInfo(info));
      for (const w of info.Warnings ?? []) cli.eprintln(w);
    });
}
