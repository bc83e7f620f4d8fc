// Nothing accepted that is not done: every row of the tables of fields berth does not apply
// (src/engine/containers/unsupported.ts) is refused with a 400 naming the field and the value,
// through the API and through each docker CLI flag that sends it; what clients send for plain
// runs, and the flags whose values berth does apply, stay accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useDaemon, type TestDaemon } from '../helpers/daemon';
import { UNSUPPORTED_CREATE_FIELDS, UNSUPPORTED_UPDATE_FIELDS, unsupportedMessage } from '../../src/engine/containers/unsupported';

let d: TestDaemon;
useDaemon((x) => { d = x; });

/** A body with `value` at the row's path (`*`, an endpoint, is the default network's). */
function bodyWith(path: string, value: unknown, base: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = JSON.parse(JSON.stringify(base));
  const segs = path.split('.').map((s) => (s === '*' ? 'default' : s));
  let o = body;
  for (const s of segs.slice(0, -1)) o = (o[s] ??= {}) as Record<string, unknown>;
  o[segs[segs.length - 1]] = value;
  return body;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The message names the field (an endpoint's under the key the CLI used). */
const namesField = (path: string) => new RegExp(`berth does not support ${path.split('.').map((s) => (s === '*' ? '[^.]+' : escape(s))).join('\\.')} yet \\(got .+\\)`);

async function containerCount(): Promise<number> {
  return (await d.request('GET', '/v1.44/containers/json?all=1')).json().length;
}

test('create: each refused field is a 400 naming it and its value, and leaves nothing behind', async () => {
  const before = await containerCount();
  for (const row of UNSUPPORTED_CREATE_FIELDS) {
    const r = await d.request('POST', '/v1.44/containers/create', bodyWith(row.path, row.example, { Image: 'busybox', Cmd: ['true'] }));
    assert.equal(r.status, 400, `${row.path}: ${r.body}`);
    // The message names the field and the part of the value refused (the other network's name).
    const want = row.path === 'NetworkingConfig.EndpointsConfig'
      ? unsupportedMessage(row.path, ['other'])
      : unsupportedMessage(row.path.replace('*', 'default'), row.example);
    assert.deepEqual(r.json(), { message: want }, row.path);
  }
  assert.equal(await containerCount(), before);
});

test('create: each docker CLI flag that sends a refused field fails with the daemon\'s message', async () => {
  const rows = UNSUPPORTED_CREATE_FIELDS.filter((r) => r.cli);
  assert.ok(rows.length >= 25, `rows with a flag: ${rows.length}`);
  for (const row of rows) {
    for (const flags of row.cli!) {
      const r = await d.docker(['create', ...flags, 'busybox', 'true']);
      assert.notEqual(r.code, 0, `docker create ${flags.join(' ')} was accepted`);
      assert.match(r.stderr, namesField(row.path), `docker create ${flags.join(' ')}: ${r.stderr}`);
    }
  }
  assert.equal(await containerCount(), 0);
});

test('create: flags whose values berth applies stay accepted', async () => {
  const flags = UNSUPPORTED_CREATE_FIELDS.flatMap((r) => r.accepted ?? []);
  assert.ok(flags.length >= 10);
  for (const f of flags) {
    const r = await d.docker(['create', ...f, 'busybox', 'true']);
    assert.equal(r.code, 0, `docker create ${f.join(' ')}: ${r.stderr}`);
    assert.equal((await d.docker(['rm', r.stdout.trim()])).code, 0);
  }
  // The reference's create with many applied flags (shared/reference/engine-api/containers.md),
  // and --expose, which Docker records without publishing anything.
  const many = await d.docker(['create', '-e', 'FOO=bar', '-e', 'EMPTY=', '-w', '/srv', '-u', '1000:1000', '-h', 'localhost',
    '-l', 'tr=1', '--entrypoint', '/bin/sh', '-m', '64m', '--cpus', '0.5', '--pids-limit', '100', '--cap-add', 'NET_ADMIN',
    '--cap-drop', 'MKNOD', '--read-only', '--privileged', '--network', 'none', '--restart', 'on-failure:3', '--init',
    '--ulimit', 'nofile=1024:2048', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', '--expose', '80',
    '--sysctl', 'net.ipv4.ip_forward=1', '--dns', '10.0.0.1', '--add-host', 'h:10.0.0.2', '--shm-size', '8m',
    '--health-cmd', 'true', '--stop-signal', 'SIGUSR1', '--stop-timeout', '3', '--group-add', '10', 'busybox', '-c', 'echo hi']);
  assert.equal(many.code, 0, many.stderr);
  assert.equal((await d.docker(['rm', many.stdout.trim()])).code, 0);
  // A plain run, interactive defaults included.
  const run = await d.docker(['run', '--rm', 'busybox', 'echo', 'plain']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'plain\n');
});

test('update: each refused field is a 400 naming it; the CLI flags that send one fail', async () => {
  const c = await d.docker(['run', '-d', 'busybox', 'sleep', '300']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  try {
    for (const row of UNSUPPORTED_UPDATE_FIELDS) {
      const r = await d.request('POST', `/v1.44/containers/${id}/update`, bodyWith(row.path, row.example));
      assert.equal(r.status, 400, `${row.path}: ${r.body}`);
      assert.deepEqual(r.json(), { message: unsupportedMessage(row.path, row.example) }, row.path);
      for (const flags of row.cli ?? []) {
        const u = await d.docker(['update', ...flags, id]);
        assert.notEqual(u.code, 0, `docker update ${flags.join(' ')} was accepted`);
        assert.match(u.stderr, namesField(row.path), `docker update ${flags.join(' ')}: ${u.stderr}`);
      }
    }
    // What the CLI sends for an applied change still goes through.
    const ok = await d.docker(['update', '--cpus', '0.5', '--memory', '64m', '--memory-swap', '128m', '--restart', 'on-failure:2', id]);
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await d.docker(['rm', '-f', id]);
  }
});

test('start with a HostConfig body is refused as Docker does since 1.24; an empty object is fine', async () => {
  const id = (await d.request('POST', '/v1.44/containers/create', { Image: 'busybox', Cmd: ['true'] })).json().Id;
  try {
    const r = await d.request('POST', `/v1.44/containers/${id}/start`, { HostConfig: { Binds: ['/tmp:/mnt'] } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { message: 'starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24' });
    assert.equal((await d.request('POST', `/v1.44/containers/${id}/start`, {})).status, 204);
  } finally {
    await d.request('DELETE', `/v1.44/containers/${id}?force=1`);
  }
});

test('--platform: an image of another platform is not run as if it matched', async () => {
  const arch = (await d.request('GET', '/v1.44/images/busybox/json')).json().Architecture as string;
  const other = arch === 'arm64' ? 'amd64' : 'arm64';
  const r = await d.request('POST', `/v1.44/containers/create?platform=linux/${other}`, { Image: 'busybox', Cmd: ['true'] });
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: `image with reference busybox was found but does not match the specified platform: wanted linux/${other}, actual: linux/${arch}` });
  assert.equal((await d.request('POST', '/v1.44/containers/create?platform=linux/x/y/z', { Image: 'busybox' })).status, 400);
  // The CLI takes the 404 as "pull the right one", which fails here: non-zero either way.
  const cli = await d.docker(['create', '--platform', `linux/${other}`, 'busybox', 'true']);
  assert.notEqual(cli.code, 0, cli.stdout);
  const same = await d.docker(['create', '--platform', `linux/${arch}`, 'busybox', 'true']);
  assert.equal(same.code, 0, same.stderr);
  assert.equal((await d.docker(['rm', same.stdout.trim()])).code, 0);
  assert.equal(await containerCount(), 0);
});
