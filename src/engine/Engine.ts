// The daemon's services wired together over the stores and the runtime.
import { OciRuntime } from '../runtime/OciRuntime';
import { swapLimitSupported } from '../runtime/cgroups';
import { fastPathsApply as runtimeFastPathsApply } from '../runtime/fastpaths';
import { LocalContentStore } from '../store/content/ContentStore';
import { LocalLayerStore } from '../store/layers/LayerStore';
import { errorMessage } from '../lib/errors';
import { log } from '../lib/log';
import { span } from '../lib/trace';
import type { DaemonConfig } from './config';
import { ContainerService } from './containers/ContainerService';
import { BuildService } from './build/BuildService';
import { networkAttachment } from './containers/attachments/network';
import { NetworkService } from './networks/NetworkService';
import { LocalNetworkStore } from '../store/networks/LocalNetworkStore';
import { EventBus } from './events/EventBus';
import { ExecService } from './exec/ExecService';
import { HealthService } from './health/HealthService';
import { ImageService } from './images/ImageService';
import { LocalVolumeStore } from './volumes/LocalVolumeStore';
import { VolumeService } from './volumes/VolumeService';
import { Distribution } from '../distribution/Distribution';
import { systemFacts, versionFacts, type SystemFacts, type VersionFacts } from './system/info';

export class Engine {
  private constructor(
    readonly config: DaemonConfig,
    readonly events: EventBus,
    readonly images: ImageService,
    readonly containers: ContainerService,
    readonly execs: ExecService,
    readonly health: HealthService,
    readonly volumes: VolumeService,
    readonly builds: BuildService,
    readonly networks: NetworkService,
  ) {}

  static async open(config: DaemonConfig): Promise<Engine> {
    const events = new EventBus();
    const content = new LocalContentStore(config.dataRoot);
    const layers = new LocalLayerStore(config.dataRoot, content);
    const volumes = new VolumeService(new LocalVolumeStore(config.dataRoot), events);
    const distribution = new Distribution(content, {
      registryMirrors: config.registryMirrors, insecureRegistries: config.insecureRegistries, maxConcurrentDownloads: config.maxConcurrentDownloads,
    });
    const runtime = new OciRuntime({ conmonPath: config.conmonPath, execRoot: config.execRoot });
    // Asked by every re-adoption below (whether the runtime's state can be read from its files):
    // its probe (`<runtime> --version`) runs while the stores open.
    const defaultRuntime = config.runtimes[config.defaultRuntime];
    if (runtime.fastPaths && defaultRuntime) void runtimeFastPathsApply(defaultRuntime).catch(() => undefined);
    // Volumes, images and networks are stores of their own, each reconciled alone: at once,
    // so that their file system round trips overlap. The containers come after all three.
    const [, images, networks] = await Promise.all([
      span('open.volumes', undefined, () => volumes.open()),
      span('open.images', undefined, () => ImageService.open({ dataRoot: config.dataRoot, content, layers, events, distribution })),
      span('open.networks', undefined, () => NetworkService.open(config, new LocalNetworkStore(config.dataRoot))),
    ]);
    // Health probes are exec sessions; the exec service needs the containers, which drive health:
    // the probe is bound to the exec service once it exists (probes run only after a start).
    let execs: ExecService | undefined;
    const health = new HealthService({
      images, events,
      probe: (id, cmd, timeoutMs, maxOutput) => execs!.runCaptured(id, cmd, timeoutMs, maxOutput),
    });
    const containers = new ContainerService({
      config, images, rootfs: layers, runtime, events, swapLimitSupported: swapLimitSupported(), health, volumes,
      networks, networkAttachment: networkAttachment(networks),
      // A force-deleted image keeps its layers while containers use them: free them after the last one.
      onRemoved: (c) => void images.resolve(c.Image).catch(() => images.gcLayers().catch(() => undefined)),
    });
    networks.bindContainers({ get: (r) => containers.store.get(r), all: () => containers.store.all(), save: (c) => containers.store.save(c) });
    execs = new ExecService(containers);
    images.setContainersUsingImage((id) => containers.usingImage(id));
    // Also matches the writable layers with the records (orphans, torn mount records).
    await span('open.containers', undefined, () => containers.restore());
    const builds = new BuildService({ dataRoot: config.dataRoot, images, containers });
    await span('open.builds', undefined, () => builds.reconcile());
    return new Engine(config, events, images, containers, execs, health, volumes, builds, networks);
  }

  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.images.resolve(ref)).id;
    } catch {
      return undefined;
    }
  }

  async info(): Promise<SystemFacts> {
    const all = this.containers.store.all();
    const running = all.filter((c) => c.State.Running && !c.State.Paused).length;
    const paused = all.filter((c) => c.State.Paused).length;
    return systemFacts(this.config, {
      containers: all.length, running, paused, stopped: all.length - running - paused,
      images: await this.images.count(),
    }, this.events.listenerCount);
  }

  version(): Promise<VersionFacts> {
    return versionFacts(this.config);
  }

  /** Without live-restore, containers stop with the daemon (their stop signal and timeout). */
  async shutdown(): Promise<void> {
    // Stops from here on are the daemon's, not the user's: unless-stopped containers come back
    // at the next start (Docker's IsShuttingDown), and no restart policy fires meanwhile.
    this.containers.shuttingDown = true;
    await this.containers.cancelEarlyStarts();
    if (this.config.liveRestore) return;
    await Promise.all(this.containers.store.all().filter((c) => c.State.Running).map((c) =>
      this.containers.stop(c.Id).catch((e) => log.warn('stop at shutdown failed', { id: c.Id, error: errorMessage(e) }))));
  }
}
