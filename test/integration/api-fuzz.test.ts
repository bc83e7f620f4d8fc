// A property-based pass over the Engine API (fast-check, fixed seed): malformed and truncated
// JSON, wrong types in every field of the create body, huge and negative numbers, deep nesting,
// names and references with `..`, `/`, NUL and 10,000 characters, bad filters and query values,
// wrong methods. Every answer is a 2xx or a 4xx with Docker's {"message"}; never a 5xx, never a
// crash, and whatever a request made is removed (nothing half-made is left: the lists end empty).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startDaemon, type ApiResponse, type TestDaemon } from '../helpers/daemon';

const SEED = 19;
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 60);

let d: TestDaemon;
before(async () => { d = await startDaemon(); await d.ensureBusybox(); });
after(async () => { await d?.stop(); });

const tally = { requests: 0, shapes: new Set<string>(), s2xx: 0, s4xx: 0, s5xx: 0 };
after(() => {
  process.stdout.write(`# fuzz: ${tally.requests} requests of ${tally.shapes.size} shapes: ${tally.s2xx} 2xx/3xx, ${tally.s4xx} 4xx, ${tally.s5xx} 5xx\n`);
});

/** Sends one request and checks the answer's shape; returns it for clean-up. */
async function probe(shape: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  tally.requests++;
  tally.shapes.add(shape);
  const r = await d.request(method, p, body, headers);
  const what = `${shape}: ${method} ${p.slice(0, 200)} ${Buffer.isBuffer(body) ? body.toString().slice(0, 200) : JSON.stringify(body)?.slice(0, 300)}`;
  assert.ok(r.status < 500, `${r.status} ${r.body.toString().slice(0, 300)} for ${what}`);
  if (r.status >= 400) {
    tally.s4xx++;
    let msg: unknown;
    try { msg = r.json<{ message: unknown }>().message; } catch { /* not JSON */ }
    // HEAD answers carry no body; below API 1.24 dockerd answers errors in plain text
    const old = /^\/v(\d+)\.(\d+)\//.exec(p);
    if (method !== 'HEAD' && !(old && (Number(old[1]) < 1 || (Number(old[1]) === 1 && Number(old[2]) < 24)))) assert.equal(typeof msg, 'string', `no {"message"} in ${r.status} ${r.body.toString().slice(0, 200)} for ${what}`);
  } else {
    tally.s2xx++;
  }
  return r;
}

/** Whatever a create made goes at once. */
async function removeIfMade(r: ApiResponse): Promise<void> {
  if (r.status !== 201) return;
  const id = r.json<{ Id?: string }>().Id;
  if (id) await d.request('DELETE', `/v1.44/containers/${id}?force=1&v=1`);
}

const nasty = fc.oneof(
  fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('..', '../..', '/', '//', '.', '\u0000', 'a\u0000b', '%00', '..%2F..', 'x'.repeat(10_000), ' ', ''),
  fc.string().map((s) => `../${s}`), fc.string().map((s) => `${s}/../${s}`),
);
const weird = fc.oneof(
  fc.anything({ maxDepth: 3 }), nasty,
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, -(2 ** 63), 2 ** 64, 1e308, -1e308, 0.5, NaN, null, true, [], {}),
  fc.integer(), fc.double(),
  // deep nesting
  fc.integer({ min: 50, max: 2000 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n))),
);

const CREATE_FIELDS = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Entrypoint', 'Image',
  'Labels', 'WorkingDir', 'NetworkDisabled', 'MacAddress', 'ExposedPorts', 'StopSignal', 'StopTimeout', 'Healthcheck', 'Volumes', 'Shell', 'OnBuild',
  'HostConfig', 'HostConfig.Binds', 'HostConfig.Memory', 'HostConfig.MemorySwap', 'HostConfig.CpuShares', 'HostConfig.NanoCpus', 'HostConfig.PidsLimit',
  'HostConfig.Ulimits', 'HostConfig.CapAdd', 'HostConfig.CapDrop', 'HostConfig.SecurityOpt', 'HostConfig.Privileged', 'HostConfig.PortBindings',
  'HostConfig.RestartPolicy', 'HostConfig.RestartPolicy.Name', 'HostConfig.RestartPolicy.MaximumRetryCount', 'HostConfig.LogConfig', 'HostConfig.LogConfig.Type',
  'HostConfig.LogConfig.Config', 'HostConfig.NetworkMode', 'HostConfig.IpcMode', 'HostConfig.PidMode', 'HostConfig.UTSMode', 'HostConfig.ShmSize',
  'HostConfig.Sysctls', 'HostConfig.Mounts', 'HostConfig.Tmpfs', 'HostConfig.Devices', 'HostConfig.GroupAdd', 'HostConfig.Dns', 'HostConfig.ExtraHosts',
  'HostConfig.MaskedPaths', 'HostConfig.ReadonlyPaths', 'HostConfig.Init', 'HostConfig.AutoRemove', 'HostConfig.ConsoleSize', 'HostConfig.Runtime',
  'HostConfig.CpusetCpus', 'HostConfig.BlkioWeight', 'HostConfig.OomScoreAdj', 'HostConfig.ReadonlyRootfs', 'NetworkingConfig', 'NetworkingConfig.EndpointsConfig',
  'Healthcheck.Test', 'Healthcheck.Interval', 'Healthcheck.Retries',
];

function withField(path: string, value: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = { Image: 'busybox', Cmd: ['true'], HostConfig: {} };
  const keys = path.split('.');
  let o = body;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
  return body;
}

const params = { seed: SEED, numRuns: RUNS, endOnFailure: true };

test('create: a wrong value in any field of the body', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(...CREATE_FIELDS), weird, async (field, value) => {
    await removeIfMade(await probe(`create ${field}`, 'POST', '/v1.44/containers/create', withField(field, value)));
  }), { ...params, numRuns: RUNS * 4 });
});

test('create: malformed, truncated and non-object JSON', async () => {
  const valid = JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 0, Binds: null } });
  await fc.assert(fc.asyncProperty(fc.oneof(
    fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
    fc.string(), fc.json(), fc.constantFrom('null', '[]', '"x"', '1', '{"Image":', '{"Image":"busybox",}', '\u0000', '{'.repeat(5000)),
  ), async (text) => {
    await removeIfMade(await probe('create raw body', 'POST', '/v1.44/containers/create', Buffer.from(text), { 'Content-Type': 'application/json' }));
  }), params);
});

test('names and references in paths and queries', async () => {
  await fc.assert(fc.asyncProperty(nasty, fc.constantFrom(
    'create?name=', 'containers/json', 'containers/start', 'containers/rm', 'containers/logs', 'images/json', 'images/rmi', 'images/history', 'images/tag', 'exec/json', 'volumes/json', 'networks/json',
  ), async (name, where) => {
    const e = encodeURIComponent(name);
    switch (where) {
      case 'create?name=': await removeIfMade(await probe(where, 'POST', `/v1.44/containers/create?name=${e}`, { Image: 'busybox', Cmd: ['true'] })); break;
      case 'containers/json': await probe(where, 'GET', `/v1.44/containers/${e}/json`); break;
      case 'containers/start': await probe(where, 'POST', `/v1.44/containers/${e}/start`); break;
      case 'containers/rm': await probe(where, 'DELETE', `/v1.44/containers/${e}?force=1`); break;
      case 'containers/logs': await probe(where, 'GET', `/v1.44/containers/${e}/logs?stdout=1`); break;
      case 'images/json': await probe(where, 'GET', `/v1.44/images/${e}/json`); break;
      case 'images/rmi': await probe(where, 'DELETE', `/v1.44/images/${e}`); break;
      case 'images/history': await probe(where, 'GET', `/v1.44/images/${e}/history`); break;
      case 'images/tag': await probe(where, 'POST', `/v1.44/images/busybox/tag?repo=${e}&tag=${e}`); break;
      case 'exec/json': await probe(where, 'GET', `/v1.44/exec/${e}/json`); break;
      case 'volumes/json': await probe(where, 'GET', `/v1.44/volumes/${e}`); break;
      case 'networks/json': await probe(where, 'GET', `/v1.44/networks/${e}`); break;
    }
  }), { ...params, numRuns: RUNS * 3 });
});

test('filters and query values', async () => {
  await fc.assert(fc.asyncProperty(fc.oneof(fc.json(), nasty, fc.dictionary(nasty, fc.array(nasty)).map((o) => JSON.stringify(o))),
    fc.constantFrom('/containers/json?all=1&filters=', '/images/json?filters=', '/containers/prune?filters=', '/images/prune?filters=', '/events?until=1&since=',
      '/containers/json?limit=', '/containers/json?all=', '/images/json?all=', '/volumes?filters=', '/networks?filters='),
    async (v, route) => {
      const method = route.includes('prune') ? 'POST' : 'GET';
      // prune with filters that match nothing new: the only containers are the ones this test makes
      await probe(`query ${route}`, method, `/v1.44${route}${encodeURIComponent(v)}`);
    }), { ...params, numRuns: RUNS * 2 });
});

test('wrong methods and unknown routes', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom('PUT', 'PATCH', 'DELETE', 'POST', 'GET', 'OPTIONS'),
    fc.constantFrom('/_ping', '/info', '/version', '/containers/json', '/containers/create', '/images/json', '/nope', '/containers/x/nope', '/v9.99/info', '/v0.1/info', '/v1.44/'),
    async (method, p) => { await probe(`method ${p}`, method, p.startsWith('/v') ? p : `/v1.44${p}`); }), params);
});

test('the daemon still answers, and nothing made by the fuzzing is left', async () => {
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  const left = (await d.request('GET', '/v1.44/containers/json?all=1')).json<unknown[]>();
  assert.deepEqual(left, []);
  const images = (await d.request('GET', '/v1.44/images/json')).json<{ RepoTags: string[] }[]>();
  // tags the fuzzing made on busybox are removed by the daemon's own rmi: only busybox remains
  for (const img of images) for (const t of img.RepoTags ?? []) if (t !== 'busybox:latest') await d.request('DELETE', `/v1.44/images/${encodeURIComponent(t)}`);
  assert.ok(!d.exited, 'berthd crashed');
});
