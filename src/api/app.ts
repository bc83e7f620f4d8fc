// Assembles the router from the route groups.
import type { Engine } from '../engine/Engine';
import { registerContainerRoutes } from './routes/containers';
import { registerArchiveRoutes } from './routes/archive';
import { registerExecRoutes } from './routes/exec';
import { registerImageRoutes } from './routes/images';
import { registerDistributionRoutes } from './routes/distribution';
import { registerNetworkRoutes } from './routes/networks';
import { registerSwarmRoutes } from './routes/swarm';
import { registerSystemRoutes } from './routes/system';
import { registerVolumeRoutes } from './routes/volumes';
import { registerBuildRoutes } from './routes/build';
import { diskUsage } from '../engine/system/df';
import { checkImagePlatform } from '../engine/images/types';
import { Router } from './router';
import { API_VERSION, MIN_API_VERSION } from './version';
import { SERVER_VERSION } from './server';
import { infoView, versionView } from './views/system';

export function buildRouter(engine: Engine): Router {
  const r = new Router();
  registerSystemRoutes(r, {
    events: engine.events,
    info: async () => infoView(await engine.info(), SERVER_VERSION),
    version: async () => versionView(await engine.version(), SERVER_VERSION, API_VERSION, MIN_API_VERSION),
    diskUsage: (types) => diskUsage(engine.images, engine.containers, types, engine.volumes),
  });
  registerSwarmRoutes(r);
  registerContainerRoutes(r, {
    containers: engine.containers,
    imageId: (ref) => engine.imageId(ref),
    checkPlatform: async (ref, platform) => checkImagePlatform(await engine.images.resolve(ref), ref, platform),
  });
  registerArchiveRoutes(r, engine.containers);
  registerImageRoutes(r, engine.images);
  registerDistributionRoutes(r, engine.images);
  registerExecRoutes(r, engine.execs);
  registerVolumeRoutes(r, engine.volumes);
  registerBuildRoutes(r, { images: engine.images, containers: engine.containers, builds: engine.builds });
  registerNetworkRoutes(r, engine.networks);
  return r;
}
