// The compose engine's pure parts: names, labels, the config hash, the dependency order and the
// create body a service becomes (with the keys it refuses).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABEL, type Project, type Service } from '../../src/compose/model';
import { containerCreateBody } from '../../src/compose/project/createbody';
import { canonicalJson, serviceConfigHash } from '../../src/compose/project/hash';
import { dependencies, walkInOrder, withDependencies } from '../../src/compose/project/graph';
import { containerName, defaultImageName, replacementName } from '../../src/compose/project/names';

/** A resolved service as the loader gives it, with `over` on top. */
export function svc(name: string, over: Partial<Service> = {}): Service {
  return {
    name, environment: {}, labels: {}, ports: [], expose: [], volumes: [], tmpfs: [], networks: { default: null },
    extra_hosts: [], dns: [], dns_search: [], dns_opt: [], depends_on: {}, cap_add: [], cap_drop: [], security_opt: [],
    ulimits: {}, sysctls: {}, devices: [], secrets: [], configs: [], ...over,
  } as Service;
}

export function proj(services: Service[], over: Partial<Project> = {}): Project {
  return {
    name: 'app', working_dir: '/src/app', config_files: ['/src/app/compose.yaml'], env_files: ['/src/app/.env'], environment: {},
    services: Object.fromEntries(services.map((s) => [s.name, s])), disabled_services: {},
    networks: { default: { name: 'app_default', driver_opts: {}, labels: {} } },
    volumes: {}, secrets: {}, configs: {}, ...over,
  };
}

test('names: project-service-N, container_name, build images, replacements', () => {
  const p = proj([svc('web')]);
  assert.equal(containerName(p, p.services.web, 2), 'app-web-2');
  assert.equal(containerName(p, svc('db', { container_name: 'mydb' }), 1), 'mydb');
  assert.equal(defaultImageName(p, svc('web', { build: { context: '/x', args: {}, labels: {} } })), 'app-web');
  assert.equal(defaultImageName(p, svc('web', { image: 'nginx' })), 'nginx');
  assert.equal(replacementName('0123456789abcdef', 'app-web-1'), '0123456789ab_app-web-1');
});

test('config hash: stable, key order free, blind to build/scale/replicas, changed by a real change', () => {
  const a = svc('web', { image: 'nginx', environment: { A: '1', B: '2' } });
  const b = svc('web', { environment: { B: '2', A: '1' }, image: 'nginx' });
  assert.equal(serviceConfigHash(a), serviceConfigHash(b));
  assert.match(serviceConfigHash(a), /^[0-9a-f]{64}$/);
  assert.equal(serviceConfigHash(a), serviceConfigHash({ ...a, scale: 3, pull_policy: 'always', build: { context: '/y', args: {}, labels: {} } }));
  assert.equal(serviceConfigHash({ ...a, deploy: { replicas: 2 } }), serviceConfigHash({ ...a, deploy: { replicas: 5 } }));
  assert.notEqual(serviceConfigHash(a), serviceConfigHash({ ...a, environment: { A: '1', B: '3' } }));
  assert.notEqual(serviceConfigHash(a), serviceConfigHash({ ...a, command: ['sh'] }));
  assert.notEqual(serviceConfigHash(a), serviceConfigHash({ ...a, deploy: { replicas: 2, resources: { limits: { memory: '1g' } } } }));
  assert.equal(canonicalJson({ b: [1, { d: 1, c: undefined }], a: null }), '{"a":null,"b":[1,{"d":1}]}');
});

test('dependency order: depends_on, network_mode service:, links; reverse for stop; cycles refused', async () => {
  const p = proj([
    svc('web', { depends_on: { api: { condition: 'service_started', restart: false, required: true } } }),
    svc('api', { depends_on: { db: { condition: 'service_healthy', restart: true, required: true } }, links: ['cache:redis'] }),
    svc('db'), svc('cache'),
    svc('side', { network_mode: 'service:db', networks: {} }),
    svc('opt', { depends_on: { gone: { condition: 'service_started', restart: false, required: false } } }),
  ]);
  assert.deepEqual(dependencies(p, p.services.api).sort(), ['cache', 'db']);
  assert.deepEqual(dependencies(p, p.services.opt), []);
  assert.deepEqual(withDependencies(p, ['web']).sort(), ['api', 'cache', 'db', 'web']);
  const order: string[] = [];
  await walkInOrder(p, Object.keys(p.services), async (n) => { order.push(n); await new Promise((r) => setTimeout(r, 5)); }, { parallel: 2 });
  const before = (a: string, b: string) => assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b} in ${order}`);
  before('db', 'api'); before('cache', 'api'); before('api', 'web'); before('db', 'side');
  const stop: string[] = [];
  await walkInOrder(p, Object.keys(p.services), async (n) => { stop.push(n); }, { reverse: true });
  assert.ok(stop.indexOf('web') < stop.indexOf('api') && stop.indexOf('api') < stop.indexOf('db'), stop.join(','));
  // independent services run side by side, at most `parallel` at once
  let active = 0; let peak = 0;
  const flat = proj(['a', 'b', 'c', 'd'].map((n) => svc(n)));
  await walkInOrder(flat, Object.keys(flat.services), async () => { active++; peak = Math.max(peak, active); await new Promise((r) => setTimeout(r, 20)); active--; }, { parallel: 2 });
  assert.equal(peak, 2);
  const cyc = proj([svc('a', { depends_on: { b: { condition: 'service_started', restart: false, required: true } } }), svc('b', { links: ['a'] })]);
  await assert.rejects(walkInOrder(cyc, ['a', 'b'], async () => undefined), /dependency cycle detected: a -> b -> a/);
  // a failure is thrown and what depends on it does not run
  const ran: string[] = [];
  await assert.rejects(walkInOrder(p, ['db', 'api', 'cache'], async (n) => { if (n === 'db') throw new Error('db broke'); ran.push(n); }), /db broke/);
  assert.ok(!ran.includes('api'));
});

test('create body: every key becomes its API field', () => {
  const p = proj([
    svc('web', {
      image: 'nginx:latest', command: ['nginx', '-g', 'daemon off;'], entrypoint: ['/docker-entrypoint.sh'],
      environment: { B: '2', A: '1', UNSET: null }, labels: { team: 'x' }, user: '1000:1000', working_dir: '/srv', hostname: 'h',
      tty: true, stdin_open: true, init: true, privileged: true, read_only: true, stop_signal: 'SIGQUIT', stop_grace_period: '1m30s',
      restart: 'on-failure:3',
      ports: [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }, { target: 53, protocol: 'udp', mode: 'ingress', host_ip: '127.0.0.1' }],
      expose: ['9000-9001', '7000/udp'],
      volumes: [
        { type: 'volume', source: 'data', target: '/data', read_only: true, volume: { nocopy: true } },
        { type: 'volume', target: '/anon' },
        { type: 'bind', source: '/host/conf', target: '/conf', read_only: true, bind: { create_host_path: true } },
        { type: 'bind', source: '/host/exact', target: '/exact', bind: { create_host_path: false, propagation: 'rslave' } },
        { type: 'tmpfs', target: '/scratch', tmpfs: { size: 1048576 } },
      ],
      tmpfs: ['/run', '/tmp:size=64m'],
      networks: { front: { aliases: ['www'], ipv4_address: '10.5.0.9' }, default: null },
      extra_hosts: ['somehost:162.242.195.82', 'other=1.2.3.4'], dns: ['8.8.8.8'], dns_search: ['example.com'], dns_opt: ['ndots:2'],
      healthcheck: { test: ['CMD-SHELL', 'curl -f http://localhost'], interval: '10s', timeout: '2s', retries: 3, start_period: '1s' },
      deploy: { resources: { limits: { cpus: '0.5', memory: '512M', pids: 100 }, reservations: { memory: '64m' } } },
      cap_add: ['NET_ADMIN'], cap_drop: ['MKNOD'], security_opt: ['no-new-privileges:true'],
      ulimits: { nofile: { soft: 1024, hard: 2048 } }, sysctls: { 'net.core.somaxconn': '1024' },
      devices: [{ source: '/dev/null', target: '/dev/xnull', permissions: 'rwm' }],
      logging: { driver: 'json-file', options: { 'max-size': '1m' } },
      secrets: [{ source: 'token' }], configs: [{ source: 'conf', target: '/etc/app.conf' }],
      depends_on: { db: { condition: 'service_healthy', restart: true, required: true } },
    }),
    svc('db'),
  ], {
    networks: { default: { name: 'app_default', driver_opts: {}, labels: {} }, front: { name: 'frontnet', driver_opts: {}, labels: {} } },
    volumes: { data: { name: 'app_data', driver_opts: {}, labels: {} } },
    secrets: { token: { name: 'app_token', file: '/src/app/token.txt' } },
    configs: { conf: { name: 'app_conf', file: '/src/app/app.conf' } },
  });
  const c = containerCreateBody(p, p.services.web, 1, { imageId: 'sha256:abc' });
  const b = c.body as any;
  assert.equal(c.name, 'app-web-1');
  assert.equal(b.Image, 'nginx:latest');
  assert.deepEqual(b.Cmd, ['nginx', '-g', 'daemon off;']);
  assert.deepEqual(b.Entrypoint, ['/docker-entrypoint.sh']);
  assert.deepEqual(b.Env, ['A=1', 'B=2']);
  assert.equal(b.User, '1000:1000'); assert.equal(b.WorkingDir, '/srv'); assert.equal(b.Hostname, 'h');
  assert.equal(b.Tty, true); assert.equal(b.OpenStdin, true);
  assert.equal(b.StopSignal, 'SIGQUIT'); assert.equal(b.StopTimeout, 90);
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {}, '7000/udp': {} });
  assert.deepEqual(b.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(b.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(b.HostConfig.Binds, ['/host/conf:/conf:ro']);
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'volume', Source: 'app_data', Target: '/data', ReadOnly: true, VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Target: '/anon', ReadOnly: undefined },
    { Type: 'bind', Source: '/host/exact', Target: '/exact', ReadOnly: undefined, BindOptions: { Propagation: 'rslave' } },
    { Type: 'tmpfs', Target: '/scratch', ReadOnly: undefined, TmpfsOptions: { SizeBytes: 1048576 } },
    { Type: 'bind', Source: '/src/app/token.txt', Target: '/run/secrets/token', ReadOnly: true },
    { Type: 'bind', Source: '/src/app/app.conf', Target: '/etc/app.conf', ReadOnly: true },
  ]);
  assert.deepEqual(b.HostConfig.Tmpfs, { '/run': '', '/tmp': 'size=64m' });
  assert.equal(b.HostConfig.NetworkMode, 'app_default');
  assert.deepEqual(b.NetworkingConfig.EndpointsConfig, { app_default: { Aliases: ['app-web-1', 'web'] } });
  assert.deepEqual(c.extraNetworks, [{ network: 'frontnet', endpoint: { Aliases: ['app-web-1', 'web', 'www'], IPAMConfig: { IPv4Address: '10.5.0.9' } } }]);
  assert.deepEqual(b.HostConfig.ExtraHosts, ['somehost:162.242.195.82', 'other:1.2.3.4']);
  assert.deepEqual(b.HostConfig.Dns, ['8.8.8.8']); assert.deepEqual(b.HostConfig.DnsSearch, ['example.com']); assert.deepEqual(b.HostConfig.DnsOptions, ['ndots:2']);
  assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'curl -f http://localhost'], Interval: 10e9, Timeout: 2e9, StartPeriod: 1e9, StartInterval: undefined, Retries: 3 });
  assert.equal(b.HostConfig.NanoCpus, 5e8); assert.equal(b.HostConfig.Memory, 512 * 1024 * 1024); assert.equal(b.HostConfig.PidsLimit, 100);
  assert.equal(b.HostConfig.MemoryReservation, 64 * 1024 * 1024);
  assert.equal(b.HostConfig.Init, true); assert.equal(b.HostConfig.Privileged, true); assert.equal(b.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(b.HostConfig.CapAdd, ['NET_ADMIN']); assert.deepEqual(b.HostConfig.CapDrop, ['MKNOD']);
  assert.deepEqual(b.HostConfig.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(b.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(b.HostConfig.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(b.HostConfig.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rwm' }]);
  assert.deepEqual(b.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
  const l = b.Labels;
  assert.equal(l.team, 'x');
  assert.equal(l[LABEL.project], 'app'); assert.equal(l[LABEL.service], 'web'); assert.equal(l[LABEL.number], '1');
  assert.equal(l[LABEL.oneoff], 'False'); assert.equal(l[LABEL.configHash], serviceConfigHash(p.services.web));
  assert.equal(l[LABEL.workingDir], '/src/app'); assert.equal(l[LABEL.configFiles], '/src/app/compose.yaml');
  assert.equal(l[LABEL.environmentFile], '/src/app/.env'); assert.match(l[LABEL.version], /^2\./);
  assert.equal(l[LABEL.dependsOn], 'db:service_healthy:true'); assert.equal(l[LABEL.image], 'sha256:abc');
});

test('create body: network_mode service:/container:, inherited anonymous volumes, build image name', () => {
  const p = proj([
    svc('side', { image: 'busybox', network_mode: 'service:db', networks: {} }),
    svc('db', { image: 'busybox', volumes: [{ type: 'volume', target: '/anon' }] }),
    svc('built', { build: { context: '/src/app/b', args: {}, labels: {} } }),
  ]);
  const side = containerCreateBody(p, p.services.side, 1, { serviceContainer: (s) => (s === 'db' ? 'abc123' : undefined) }).body as any;
  assert.equal(side.HostConfig.NetworkMode, 'container:abc123');
  assert.deepEqual(side.NetworkingConfig.EndpointsConfig, {});
  assert.throws(() => containerCreateBody(p, p.services.side, 1), /no container of service "db"/);
  const db = containerCreateBody(p, p.services.db, 1, {
    inherit: { Id: 'old', Mounts: [{ Type: 'volume', Name: 'anon1', Destination: '/anon' }, { Type: 'volume', Name: 'imgvol', Destination: '/var/lib/x' }] },
  }).body as any;
  assert.deepEqual(db.HostConfig.Mounts, [
    { Type: 'volume', Target: '/anon', ReadOnly: undefined, Source: 'anon1' },
    { Type: 'volume', Source: 'imgvol', Target: '/var/lib/x' },
  ]);
  assert.equal((containerCreateBody(p, p.services.built, 1).body as any).Image, 'app-built');
});

test('create body: keys berth compose does not apply are refused, naming the service and the key', () => {
  const p = proj([svc('web')]);
  const refuse = (over: Partial<Service>, re: RegExp | ((e: Error) => boolean)) => assert.throws(() => containerCreateBody(p, { ...p.services.web, ...over } as Service, 1), re);
  refuse({ cgroup_parent: '/x' }, (e: Error) => e.message === 'service "web": "cgroup_parent" is not supported by berth compose');
  refuse({ develop: { watch: [] } }, /"develop" is not supported/);
  refuse({ deploy: { placement: { constraints: [] } } }, /"deploy.placement" is not supported/);
  refuse({ deploy: { resources: { reservations: { cpus: '1' } } } }, /"deploy.resources.reservations.cpus"/);
  refuse({ deploy: { restart_policy: { condition: 'any', delay: '5s' } } }, /"deploy.restart_policy.delay"/);
  refuse({ volumes: [{ type: 'npipe', source: 'x', target: '/x' }] }, /"volumes" is not supported by berth compose \(type npipe\)/);
  refuse({ networks: { default: { link_local_ips: ['169.254.1.1'] } } }, /"networks.default.link_local_ips"/);
  refuse({ secrets: [{ source: 'env' }] }, /undefined secret env/);
  const withSecret = proj([svc('web', { secrets: [{ source: 's' }] })], { secrets: { s: { name: 'app_s', environment: 'TOKEN' } } });
  assert.throws(() => containerCreateBody(withSecret, withSecret.services.web, 1), /"secrets" is not supported by berth compose \(s: only file-based secrets are supported\)/);
  // extension keys are for tools, not the engine
  assert.doesNotThrow(() => containerCreateBody(p, { ...p.services.web, 'x-note': 1 } as Service, 1));
});

test('start order: the heads of dependency chains start before the services nothing depends on; not with --parallel', async () => {
  const { headsFirst } = require('../../src/compose/project/start') as typeof import('../../src/compose/project/start');
  const dep = { condition: 'service_healthy', restart: false, required: true } as const;
  const p = proj([svc('db'), svc('web', { depends_on: { db: dep } }), svc('cache'), svc('worker')]);
  const order = headsFirst(p, Object.keys(p.services));
  let cacheTurn = false;
  const waiting = order.turn('cache').then(() => { cacheTurn = true; });
  await order.turn('db'); // a head never waits
  await new Promise((r) => setImmediate(r));
  assert.equal(cacheTurn, false, 'cache waits for db\'s start');
  order.started('db');
  await waiting;
  assert.equal(cacheTurn, true);
  // a failure anywhere releases the waiters (the walk skips heads that had not begun)
  const again = headsFirst(p, Object.keys(p.services));
  const released = again.turn('worker');
  again.failed();
  await released;
  // with a bound on parallelism, a held service would hold a slot: no holding
  let free = false;
  await headsFirst(p, Object.keys(p.services), 1).turn('cache').then(() => { free = true; });
  assert.equal(free, true);
  // no chains: nobody waits
  const flat = proj([svc('a'), svc('b')]);
  await headsFirst(flat, ['a', 'b']).turn('a');
});
