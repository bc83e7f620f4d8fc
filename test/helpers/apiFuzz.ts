// The Engine API fuzzing cases (issue 19), shared by test/integration/api-fuzz.test.ts (fixed
// seed, short, every answer checked) and bench/fuzz.ts (long, answers counted). Each case is a
// fast-check property over one kind of bad input; `FuzzTally.probe` sends a request and checks
// (strict) or counts (bench) that the answer is a 2xx or a 4xx with Docker's {"message"}.
// The spec-driven case walks every operation of the Engine API spec
// (../shared/reference/engine-api/spec/v1.44.yaml) with hostile values for each parameter.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { REPO, type ApiResponse, type TestDaemon } from './daemon';

export const FUZZ_SEED = 19;
/** Routes berth answers 503 by design: swarm (dockerd's own answer outside a swarm) and plugin installs. */
const UNAVAILABLE_ROUTE = /^\/v[\d.]+\/(swarm|services|nodes|tasks|secrets|configs|plugins)(\/|\?|$)/;

export class FuzzTally {
  requests = 0;
  shapes = new Set<string>();
  s2xx = 0;
  s4xx = 0;
  s5xx = 0;
  /** Requests the daemon did not answer at all (the connection failed or was cut). */
  unanswered = 0;
  crashes = 0;
  /** 503s of UNAVAILABLE_ROUTE: features berth refuses as a whole, not a fault. */
  unavailable = 0;
  /** The first few 5xx and unanswered requests, for the report. */
  samples: string[] = [];

  constructor(readonly d: TestDaemon, readonly strict: boolean) {}

  /** Sends one request and checks (strict) or counts the answer; returns it for clean-up. */
  async probe(shape: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse | undefined> {
    this.requests++;
    this.shapes.add(shape);
    const what = `${shape}: ${method} ${p.slice(0, 200)} ${Buffer.isBuffer(body) ? body.toString().slice(0, 200) : JSON.stringify(body)?.slice(0, 300)}`;
    let r: ApiResponse;
    try {
      r = await this.d.request(method, p, body, headers);
    } catch (e) {
      this.unanswered++;
      if (this.d.exited) this.crashes++;
      this.sample(`no answer (${(e as Error).message}) for ${what}`);
      if (this.strict) throw new Error(`no answer (${(e as Error).message}) for ${what}${this.d.exited ? `; berthd exited: ${this.d.stderr.slice(-2000)}` : ''}`);
      return undefined;
    }
    if (r.status === 503 && UNAVAILABLE_ROUTE.test(p)) {
      this.unavailable++;
    } else if (r.status >= 500) {
      this.s5xx++;
      this.sample(`${r.status} ${r.body.toString().slice(0, 300)} for ${what}`);
      if (this.strict) assert.fail(`${r.status} ${r.body.toString().slice(0, 300)} for ${what}`);
    } else if (r.status >= 400) {
      this.s4xx++;
      let msg: unknown;
      try { msg = r.json<{ message: unknown }>().message; } catch { /* not JSON */ }
      // HEAD answers carry no body; below API 1.24 dockerd answers errors in plain text
      const old = /^\/v(\d+)\.(\d+)\//.exec(p);
      const plain = method === 'HEAD' || (old && (Number(old[1]) < 1 || (Number(old[1]) === 1 && Number(old[2]) < 24)));
      if (!plain && typeof msg !== 'string') {
        this.sample(`no {"message"} in ${r.status} ${r.body.toString().slice(0, 200)} for ${what}`);
        if (this.strict) assert.fail(`no {"message"} in ${r.status} ${r.body.toString().slice(0, 200)} for ${what}`);
      }
    } else {
      this.s2xx++;
    }
    return r;
  }

  private sample(s: string): void {
    if (this.samples.length < 20) this.samples.push(s);
  }

  summary(): Record<string, unknown> {
    return { requests: this.requests, shapes: this.shapes.size, s2xx_3xx: this.s2xx, s4xx: this.s4xx, s5xx: this.s5xx, unavailable_by_design_503: this.unavailable, unanswered: this.unanswered, crashes: this.crashes };
  }
}

export const nasty = fc.oneof(
  fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('..', '../..', '/', '//', '.', '\u0000', 'a\u0000b', '%00', '..%2F..', 'x'.repeat(10_000), ' ', ''),
  fc.string().map((s) => `../${s}`), fc.string().map((s) => `${s}/../${s}`),
);
export const weird = fc.oneof(
  fc.anything({ maxDepth: 3 }), nasty,
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, -(2 ** 63), 2 ** 64, 1e308, -1e308, 0.5, NaN, null, true, [], {}),
  fc.integer(), fc.double(),
  // deep nesting
  fc.integer({ min: 50, max: 2000 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 50, max: 2000 }).map((n) => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
);
/** Query values: numbers out of range or malformed, booleans that are not, and `nasty`. */
const queryValue = fc.oneof(
  nasty, fc.json(), fc.integer().map(String), fc.double().map(String),
  fc.constantFrom('-1', '-9223372036854775809', '1e309', '99999999999999999999999', '0x10', '1.5', 'NaN', 'true', 'false', 'yes', '2', ''),
);
/** Header values must be valid header text to be sent at all. */
const headerValue = fc.oneof(fc.stringMatching(/^[ -~]{0,200}$/), fc.constantFrom('e30=', '!!!', 'eyJ1c2VybmFtZSI6MX0=', '{'.repeat(100)));

export const CREATE_FIELDS = [
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

function withField(base: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const body = structuredClone(base);
  const keys = field.split('.');
  let o = body;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
  return body;
}

// ---- the spec ----

interface SpecParam { name: string; in: 'path' | 'query' | 'body' | 'header'; type?: string; schema?: Record<string, unknown> }
export interface SpecOp { method: string; path: string; params: SpecParam[]; bodyFields: string[]; rawBody: boolean }

/**
 * Operations left out of the spec-driven walk, and why: they reach out to a registry or the
 * network (pull, push, search, login, plugin pulls, distribution), open a session that lasts,
 * or prune what the other cases share (the busybox image, the build cache).
 */
const SPEC_SKIP = new Set([
  'POST /images/create', 'POST /images/{name}/push', 'GET /images/search', 'POST /auth', 'GET /distribution/{name}/json',
  'POST /plugins/pull', 'GET /plugins/privileges', 'POST /plugins/{name}/upgrade', 'POST /session',
  'POST /images/prune', 'POST /build/prune',
]);

function schemaFields(spec: Record<string, any>, schema: Record<string, any> | undefined, depth = 0): string[] {
  if (!schema || depth > 3) return [];
  if (schema.$ref) return schemaFields(spec, spec.definitions[String(schema.$ref).split('/').pop()!], depth + 1);
  const out = Object.keys(schema.properties ?? {});
  for (const s of schema.allOf ?? []) out.push(...schemaFields(spec, s, depth + 1));
  return [...new Set(out)];
}

export function loadSpecOps(): SpecOp[] {
  const file = path.join(REPO, '..', 'shared', 'reference', 'engine-api', 'spec', 'v1.44.yaml');
  const candidates = [file, '/work/shared/reference/engine-api/spec/v1.44.yaml'];
  const text = fs.readFileSync(candidates.find((f) => fs.existsSync(f)) ?? file, 'utf8');
  const spec = YAML.parse(text) as Record<string, any>;
  const ops: SpecOp[] = [];
  for (const [p, methods] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
    for (const [m, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'delete', 'head'].includes(m)) continue;
      const method = m.toUpperCase();
      if (SPEC_SKIP.has(`${method} ${p}`)) continue;
      const params = (op.parameters ?? []) as SpecParam[];
      const body = params.find((x) => x.in === 'body');
      const rawBody = !!body && (body.schema?.type === 'string' || /tar|stream/i.test(body.name));
      ops.push({ method, path: p, params, rawBody, bodyFields: body && !rawBody ? schemaFields(spec, body.schema) : [] });
    }
  }
  return ops;
}

/** A path parameter never names an existing object by chance: hex strings could be an ID prefix. */
function notAnId(v: string): string {
  return /^[0-9a-f]{1,64}$/i.test(v) || v === 'busybox' || v.startsWith('busybox:') ? `zz${v}` : v;
}

function specRequest(op: SpecOp) {
  const pathParams = op.params.filter((x) => x.in === 'path');
  const queryParams = op.params.filter((x) => x.in === 'query');
  const headerParams = op.params.filter((x) => x.in === 'header');
  const body = op.rawBody
    ? fc.option(fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)), { nil: undefined })
    : op.bodyFields.length || op.params.some((x) => x.in === 'body')
      ? fc.oneof(weird, fc.dictionary(fc.constantFrom(...(op.bodyFields.length ? op.bodyFields : ['x'])), weird, { maxKeys: 4 }))
      : fc.constant(undefined);
  return fc.record({
    pathValues: fc.tuple(...pathParams.map(() => nasty.map(notAnId))),
    query: fc.tuple(...queryParams.map(() => fc.option(fc.array(queryValue, { minLength: 1, maxLength: 2 }), { nil: undefined }))),
    headers: fc.tuple(...headerParams.map(() => fc.option(headerValue, { nil: undefined }))),
    body,
  }).map(({ pathValues, query, headers, body: b }) => {
    let p = op.path;
    pathParams.forEach((x, i) => { p = p.replace(`{${x.name}}`, encodeURIComponent(pathValues[i] as string)); });
    const q = new URLSearchParams();
    queryParams.forEach((x, i) => { for (const v of (query[i] as string[] | undefined) ?? []) q.append(x.name, v); });
    // a stream that would last: the events of the past only, logs and stats not followed
    if (op.path === '/events') q.set('until', '1');
    if (q.has('follow')) q.set('follow', '0');
    if (op.path.endsWith('/stats')) q.set('stream', '0');
    if (op.path.endsWith('/wait')) q.set('condition', 'not-running');
    const h: Record<string, string> = {};
    headerParams.forEach((x, i) => { if (headers[i] !== undefined) h[x.name] = headers[i] as string; });
    const qs = q.toString();
    return { method: op.method, path: `/v1.44${p}${qs ? `?${qs}` : ''}`, body: b, headers: h };
  });
}

// ---- the cases ----

export interface FuzzCase {
  name: string;
  /** Runs relative to the base count. */
  scale: number;
  property(t: FuzzTally): fc.IAsyncProperty<any>;
}

/** Whatever a request made goes at once (containers, volumes, networks, images it tagged). */
async function removeIfMade(t: FuzzTally, r: ApiResponse | undefined, kind: 'container' | 'volume' | 'network'): Promise<void> {
  if (!r || r.status !== 201 && r.status !== 200) return;
  let j: { Id?: string; Name?: string };
  try { j = r.json(); } catch { return; }
  if (kind === 'container' && j.Id) await t.d.request('DELETE', `/v1.44/containers/${j.Id}?force=1&v=1`);
  if (kind === 'volume' && j.Name) await t.d.request('DELETE', `/v1.44/volumes/${encodeURIComponent(j.Name)}?force=1`);
  if (kind === 'network' && j.Id) await t.d.request('DELETE', `/v1.44/networks/${j.Id}`);
}

/** A stopped container and its image, for the cases that need a real object to aim at. */
export const FUZZ_TARGET = 'fuzz-target';

export function fuzzCases(): FuzzCase[] {
  const ops = loadSpecOps();
  const validCreate = { Image: 'busybox', Cmd: ['true'], HostConfig: {} };
  const jsonBodies: { route: string; valid: Record<string, unknown>; kind?: 'volume' | 'network' | 'container' }[] = [
    { route: 'POST /containers/create', valid: { Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 0, Binds: null } }, kind: 'container' },
    { route: 'POST /volumes/create', valid: { Name: 'fuzzvol', Driver: 'local', Labels: { a: 'b' } }, kind: 'volume' },
    { route: 'POST /networks/create', valid: { Name: 'fuzznet', Driver: 'bridge', Internal: true }, kind: 'network' },
    { route: `POST /containers/${FUZZ_TARGET}/update`, valid: { Memory: 0, CpuShares: 2, RestartPolicy: { Name: 'no' } } },
    { route: `POST /containers/${FUZZ_TARGET}/exec`, valid: { Cmd: ['true'], AttachStdout: true, Env: ['A=b'] } },
    { route: `POST /networks/none/connect`, valid: { Container: FUZZ_TARGET, EndpointConfig: {} } },
    { route: 'POST /auth', valid: { username: 'u', password: 'p', serveraddress: '127.0.0.1:1' } },
  ];
  return [
    {
      name: 'create: a wrong value in any field of the body', scale: 4,
      property: (t) => fc.asyncProperty(fc.constantFrom(...CREATE_FIELDS), weird, async (field, value) => {
        await removeIfMade(t, await t.probe(`create ${field}`, 'POST', '/v1.44/containers/create', withField(validCreate, field, value)), 'container');
      }),
    },
    {
      name: 'JSON bodies: malformed, truncated, non-object and deeply nested, on every JSON route', scale: 2,
      property: (t) => fc.asyncProperty(fc.constantFrom(...jsonBodies), fc.oneof(
        fc.double({ min: 0, max: 0.999 }).map((x) => ({ cut: x })),
        fc.string().map((s) => ({ text: s })), fc.json().map((s) => ({ text: s })),
        fc.constantFrom('null', '[]', '"x"', '1', '{"a":', '{"a":1,}', '\u0000', '{'.repeat(5000), '['.repeat(100_000), '{"a":'.repeat(10_000)).map((s) => ({ text: s })),
      ), async (b, how) => {
        const valid = JSON.stringify(b.valid);
        const text = 'cut' in how ? valid.slice(0, Math.floor(how.cut * valid.length)) : how.text;
        // /auth with a body that parses would try the registry: only what cannot parse goes there
        if (b.route === 'POST /auth') { try { const v = JSON.parse(text); if (v && typeof v === 'object' && !Array.isArray(v)) return; } catch { /* not JSON: sent */ } }
        const [method, route] = b.route.split(' ');
        await removeIfMade(t, await t.probe(`json ${b.route}`, method, `/v1.44${route}`, Buffer.from(text), { 'Content-Type': 'application/json' }), b.kind ?? 'container');
      }),
    },
    {
      name: 'JSON bodies: a wrong value in any field (volumes, networks, update, exec)', scale: 2,
      property: (t) => fc.asyncProperty(fc.constantFrom(...jsonBodies.filter((b) => !b.route.includes('/auth') && !b.route.includes('containers/create'))), weird, fc.nat(), async (b, value, k) => {
        const keys = Object.keys(b.valid);
        const field = keys[k % keys.length];
        const [method, route] = b.route.split(' ');
        await removeIfMade(t, await t.probe(`field ${b.route} ${field}`, method, `/v1.44${route}`, withField(b.valid, field, value)), b.kind ?? 'container');
      }),
    },
    {
      name: 'names and references in paths and queries', scale: 3,
      property: (t) => fc.asyncProperty(nasty, fc.constantFrom(
        'create?name=', 'containers/json', 'containers/start', 'containers/rm', 'containers/logs', 'images/json', 'images/rmi', 'images/history', 'images/tag', 'exec/json', 'volumes/json', 'networks/json',
        'volumes/create', 'networks/create', 'containers/rename', 'archive/get', 'archive/head', 'archive/put', 'commit',
      ), async (name, where) => {
        const e = encodeURIComponent(name);
        const safe = encodeURIComponent(notAnId(name));
        switch (where) {
          case 'create?name=': await removeIfMade(t, await t.probe(where, 'POST', `/v1.44/containers/create?name=${e}`, validCreate), 'container'); break;
          case 'containers/json': await t.probe(where, 'GET', `/v1.44/containers/${e}/json`); break;
          case 'containers/start': await t.probe(where, 'POST', `/v1.44/containers/${safe}/start`); break;
          case 'containers/rm': await t.probe(where, 'DELETE', `/v1.44/containers/${safe}?force=1`); break;
          case 'containers/logs': await t.probe(where, 'GET', `/v1.44/containers/${e}/logs?stdout=1`); break;
          case 'images/json': await t.probe(where, 'GET', `/v1.44/images/${e}/json`); break;
          case 'images/rmi': await t.probe(where, 'DELETE', `/v1.44/images/${safe}`); break;
          case 'images/history': await t.probe(where, 'GET', `/v1.44/images/${e}/history`); break;
          case 'images/tag': await t.probe(where, 'POST', `/v1.44/images/busybox/tag?repo=${e}&tag=${e}`); break;
          case 'exec/json': await t.probe(where, 'GET', `/v1.44/exec/${e}/json`); break;
          case 'volumes/json': await t.probe(where, 'GET', `/v1.44/volumes/${e}`); break;
          case 'networks/json': await t.probe(where, 'GET', `/v1.44/networks/${e}`); break;
          case 'volumes/create': await removeIfMade(t, await t.probe(where, 'POST', '/v1.44/volumes/create', { Name: name }), 'volume'); break;
          case 'networks/create': await removeIfMade(t, await t.probe(where, 'POST', '/v1.44/networks/create', { Name: name, Internal: true }), 'network'); break;
          case 'containers/rename': {
            const r = await t.probe(where, 'POST', `/v1.44/containers/${FUZZ_TARGET}/rename?name=${e}`);
            if (r && r.status < 300) await t.d.request('POST', `/v1.44/containers/${e}/rename?name=${FUZZ_TARGET}`);
            break;
          }
          // in-container paths: never outside the container's root, never a 5xx
          case 'archive/get': await t.probe(where, 'GET', `/v1.44/containers/${FUZZ_TARGET}/archive?path=${e}`); break;
          case 'archive/head': await t.probe(where, 'HEAD', `/v1.44/containers/${FUZZ_TARGET}/archive?path=${e}`); break;
          case 'archive/put': await t.probe(where, 'PUT', `/v1.44/containers/${FUZZ_TARGET}/archive?path=${e}`, Buffer.alloc(1024)); break;
          case 'commit': await t.probe(where, 'POST', `/v1.44/commit?container=${safe}&repo=${e}`); break;
        }
      }),
    },
    {
      name: 'filters and query values', scale: 2,
      property: (t) => fc.asyncProperty(fc.oneof(fc.json(), nasty, fc.dictionary(nasty, fc.array(nasty)).map((o) => JSON.stringify(o))),
        fc.constantFrom('/containers/json?all=1&filters=', '/images/json?filters=', '/containers/prune?filters=', '/images/prune?filters=', '/events?until=1&since=',
          '/containers/json?limit=', '/containers/json?all=', '/images/json?all=', '/volumes?filters=', '/networks?filters=', '/volumes/prune?filters=',
          '/networks/prune?filters=', '/events?until=1&filters=', '/system/df?type=',
          `/containers/${FUZZ_TARGET}/logs?stdout=1&tail=`, `/containers/${FUZZ_TARGET}/logs?stdout=1&since=`, `/containers/${FUZZ_TARGET}/logs?stdout=1&until=`,
          `/containers/${FUZZ_TARGET}/stop?t=`, `/containers/${FUZZ_TARGET}/kill?signal=`, `/containers/${FUZZ_TARGET}/resize?h=1&w=`, `/containers/${FUZZ_TARGET}/json?size=`,
          `/containers/${FUZZ_TARGET}/top?ps_args=`, `/containers/${FUZZ_TARGET}/stats?stream=0&one-shot=`),
        async (v, route) => {
          const method = /prune|stop|kill|resize/.test(route) ? 'POST' : 'GET';
          await keepTarget(t, route, await t.probe(`query ${route}`, method, `/v1.44${route}${encodeURIComponent(v)}`));
        }),
    },
    {
      name: 'every operation of the API spec, with hostile values in every parameter', scale: 6,
      property: (t) => fc.asyncProperty(fc.constantFrom(...ops).chain((op) => specRequest(op).map((req) => ({ op, req }))), async ({ op, req }) => {
        const r = await t.probe(`spec ${op.method} ${op.path}`, req.method, req.path, req.body, req.headers);
        await keepTarget(t, req.path, r);
        if (op.path === '/containers/create') await removeIfMade(t, r, 'container');
        if (op.path === '/volumes/create') await removeIfMade(t, r, 'volume');
        if (op.path === '/networks/create') await removeIfMade(t, r, 'network');
      }),
    },
    {
      name: 'bad headers and bodies of streamed routes', scale: 1,
      property: (t) => fc.asyncProperty(fc.constantFrom('/build', '/images/load', `/containers/${FUZZ_TARGET}/archive?path=/tmp`, '/images/create?fromSrc=-&repo=fuzzimport'),
        fc.oneof(fc.uint8Array({ maxLength: 8192 }).map((a) => Buffer.from(a)), fc.constant(Buffer.alloc(0)), fc.constant(Buffer.alloc(1536))),
        headerValue, async (route, body, h) => {
          const method = route.includes('archive') ? 'PUT' : 'POST';
          const r = await t.probe(`stream ${route.split('?')[0]}`, method, `/v1.44${route}`, body, { 'X-Registry-Config': h, 'Content-Type': 'application/x-tar' });
          // an import of bytes that happen to be a tar makes an image: it goes
          if (r && r.status === 200 && route.includes('fromSrc')) await t.d.request('DELETE', '/v1.44/images/fuzzimport?force=1');
        }),
    },
    {
      name: 'wrong methods and unknown routes', scale: 1,
      property: (t) => fc.asyncProperty(fc.constantFrom('PUT', 'PATCH', 'DELETE', 'POST', 'GET', 'OPTIONS'),
        fc.constantFrom('/_ping', '/info', '/version', '/containers/json', '/containers/create', '/images/json', '/nope', '/containers/x/nope', '/v9.99/info', '/v0.1/info', '/v1.44/'),
        async (method, p) => { await t.probe(`method ${p}`, method, p.startsWith('/v') ? p : `/v1.44${p}`); }),
    },
  ];
}

/** A container prune takes the (stopped) target with it: it is made again. */
async function keepTarget(t: FuzzTally, route: string, r: ApiResponse | undefined): Promise<void> {
  if (r && r.status === 200 && route.includes('/containers/prune')) await prepareFuzzTarget(t.d);
}

/** Makes what the cases aim at: a stopped container named FUZZ_TARGET. */
export async function prepareFuzzTarget(d: TestDaemon): Promise<void> {
  const r = await d.request('POST', `/v1.44/containers/create?name=${FUZZ_TARGET}`, { Image: 'busybox', Cmd: ['true'] });
  assert.equal(r.status, 201, r.body.toString());
}

/** After a pass: the daemon answers and nothing the fuzzing made is left (the target goes too). */
export async function fuzzLeftovers(d: TestDaemon): Promise<string[]> {
  const left: string[] = [];
  await d.request('DELETE', `/v1.44/containers/${FUZZ_TARGET}?force=1&v=1`);
  for (const c of (await d.request('GET', '/v1.44/containers/json?all=1')).json<{ Names: string[] }[]>()) left.push(`container ${c.Names}`);
  for (const v of (await d.request('GET', '/v1.44/volumes')).json<{ Volumes: { Name: string }[] | null }>().Volumes ?? []) left.push(`volume ${v.Name}`);
  for (const n of (await d.request('GET', '/v1.44/networks')).json<{ Name: string }[]>()) if (!['bridge', 'host', 'none'].includes(n.Name)) left.push(`network ${n.Name}`);
  // tags the fuzzing made on busybox are legitimate (POST /images/busybox/tag): removed here
  for (const img of (await d.request('GET', '/v1.44/images/json')).json<{ RepoTags: string[] }[]>()) {
    for (const tag of img.RepoTags ?? []) if (tag !== 'busybox:latest') await d.request('DELETE', `/v1.44/images/${encodeURIComponent(tag)}`);
  }
  return left;
}
