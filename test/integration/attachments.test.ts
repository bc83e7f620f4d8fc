// A container's attachments on real containers: a failing prepare aborts the start with its
// error and leaves nothing half-made; release at exit and at removal; reconcile at the daemon's
// start after kill -9. The journal attachments (src/engine/containers/attachments/journal.ts,
// a documented test seam turned on by BERTH_TEST_ATTACHMENT_JOURNAL) surround the real ones
// and write down every step; the /etc files attachment is the real one under test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon';

let d: TestDaemon;
const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bt-journal-'));
const JOURNAL = path.join(journalDir, 'journal');

before(async () => {
  process.env.BERTH_TEST_ATTACHMENT_JOURNAL = journalDir; // inherited by berthd, at each of its starts
  d = await startDaemon();
  await d.ensureBusybox();
});
after(async () => {
  await d.stop();
  delete process.env.BERTH_TEST_ATTACHMENT_JOURNAL;
  fs.rmSync(journalDir, { recursive: true, force: true });
});

/** The journal's lines about one container, without its id. */
function steps(id: string): string[] {
  const text = fs.existsSync(JOURNAL) ? fs.readFileSync(JOURNAL, 'utf8') : '';
  return text.split('\n').filter((l) => l.includes(` ${id}`)).map((l) => l.replace(` ${id}`, ''));
}
const held = (name: string, id: string) => fs.existsSync(path.join(journalDir, 'held', `${name}.${id}`));

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await d.request('POST', '/v1.44/containers/create', { Image: 'busybox', ...body });
  assert.equal(r.status, 201, r.body.toString());
  return r.json().Id;
}

/** What a start that failed must not leave behind: mounts, the runtime bundle, a shim or a task. */
function assertNothingHalfMade(id: string): void {
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(id));
  assert.deepEqual(mounts, [], 'no mount of the container is left');
  assert.equal(fs.existsSync(path.join(d.execRoot, 'bundles', id)), false, 'no runtime bundle is left');
  let procs = '';
  try { procs = execFileSync('pgrep', ['-f', id]).toString(); } catch { /* none: pgrep exits 1 */ }
  assert.equal(procs, '', 'no shim or task process is left');
  assert.equal(held('journal-first', id) || held('journal-last', id), false, 'no attachment still holds anything');
}

test('a failing attachment aborts the start with its error; what was prepared is released in reverse', async () => {
  const id = await create({ Cmd: ['true'], Labels: { 'berth.test.fail-prepare': 'journal-last' } });
  const r = await d.request('POST', `/v1.44/containers/${id}/start`);
  assert.equal(r.status, 500, r.body.toString());
  assert.match(r.json().message, /^journal-last: prepare failed as the container's berth\.test\.fail-prepare label asks$/);
  assert.deepEqual(steps(id), ['journal-first prepare', 'journal-last prepare-failed', 'journal-first release abort']);
  const state = (await d.request('GET', `/v1.44/containers/${id}/json`)).json().State;
  assert.equal(state.Running, false);
  assert.equal(state.Status, 'created');
  assert.match(state.Error, /journal-last: prepare failed/);
  assertNothingHalfMade(id);
  assert.equal((await d.request('DELETE', `/v1.44/containers/${id}`)).status, 204);
});

test('the /etc files attachment: a real failure (its file is a directory) aborts cleanly; fixed, the start works', async () => {
  const id = await create({ Cmd: ['cat', '/etc/hosts', '/etc/hostname'], Hostname: 'attached' });
  const hosts = path.join(d.dataRoot, 'containers', id, 'hosts');
  fs.mkdirSync(hosts);
  const r = await d.request('POST', `/v1.44/containers/${id}/start`);
  assert.equal(r.status, 500, r.body.toString());
  assert.match(r.json().message, /^etc-files: .*(EISDIR|directory)/);
  // journal-first was prepared before etc-files failed, journal-last never was.
  assert.deepEqual(steps(id), ['journal-first prepare', 'journal-first release abort']);
  assertNothingHalfMade(id);
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'containers', id)).filter((f) => f.endsWith('.tmp')), [], 'no temp file is left');
  fs.rmdirSync(hosts);
  const out = await d.docker(['start', '-a', id]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /127\.0\.0\.1\tlocalhost/);
  assert.match(out.stdout, /^attached$/m);
  await d.docker(['rm', id]);
});

test('a start that fails after the attachments (in the runtime) releases them all, last first', async () => {
  const id = await create({ Cmd: ['/no/such/binary'] });
  const r = await d.request('POST', `/v1.44/containers/${id}/start`);
  assert.equal(r.status, 400, r.body.toString());
  assert.match(r.json().message, /OCI runtime create failed/);
  assert.deepEqual(steps(id), ['journal-first prepare', 'journal-last prepare', 'journal-last release abort', 'journal-first release abort']);
  assertNothingHalfMade(id);
  assert.equal((await d.request('DELETE', `/v1.44/containers/${id}`)).status, 204);
});

test('release at exit (last attachment first) and again at removal; the /etc files go with the container', async () => {
  const run = await d.docker(['run', '-d', 'busybox', 'sh', '-c', 'sleep 0.3; exit 3']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.ok(held('journal-first', id) && held('journal-last', id));
  assert.equal((await d.docker(['wait', id])).stdout.trim(), '3');
  assert.deepEqual(steps(id), ['journal-first prepare', 'journal-last prepare', 'journal-last release exit', 'journal-first release exit']);
  assert.equal(held('journal-first', id) || held('journal-last', id), false);
  // Past the exit the /etc files stay, as Docker keeps them (inspect names them).
  const hostsPath = (await d.docker(['inspect', '-f', '{{.HostsPath}}', id])).stdout.trim();
  assert.ok(fs.existsSync(hostsPath), hostsPath);
  assert.equal((await d.docker(['rm', id])).code, 0);
  assert.deepEqual(steps(id).slice(4), ['journal-last release remove', 'journal-first release remove']);
  assert.equal(fs.existsSync(hostsPath), false);

  // --rm: the exit's release, then the removal's.
  const rm = await d.docker(['run', '--rm', '--name', 'att-rm', 'busybox', 'true']);
  assert.equal(rm.code, 0, rm.stderr);
  const lastId = fs.readFileSync(JOURNAL, 'utf8').split('\n').filter((l) => l.startsWith('journal-first prepare ')).at(-1)!.split(' ')[2];
  assert.deepEqual(steps(lastId), ['journal-first prepare', 'journal-last prepare', 'journal-last release exit', 'journal-first release exit',
    'journal-last release remove', 'journal-first release remove']);
});

test('after kill -9 of berthd: reconcile keeps what running containers use and drops the rest', async () => {
  const keep = (await d.docker(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
  const gone = (await d.docker(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
  const gonePid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', gone])).stdout.trim());
  await d.kill9();
  // While berthd is away: one task dies, and something holds an attachment of a container that is no more.
  process.kill(gonePid, 'SIGKILL');
  const stray = 'e'.repeat(64);
  fs.writeFileSync(path.join(journalDir, 'held', `journal-first.${stray}`), '');
  await new Promise((r) => setTimeout(r, 500));
  await d.start();
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', keep])).stdout.trim(), 'true');
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', gone])).stdout.trim(), 'false 137');
  assert.ok(held('journal-first', keep) && held('journal-last', keep), 'the running container keeps its attachments');
  assert.equal(held('journal-first', gone) || held('journal-last', gone), false, 'the dead one is released');
  assert.deepEqual(steps(gone).slice(2), ['journal-last release exit', 'journal-first release exit']);
  assert.equal(held('journal-first', stray), false, 'what no container uses is dropped');
  const reconciled = fs.readFileSync(JOURNAL, 'utf8').split('\n').filter((l) => l.startsWith('journal-first reconcile')).at(-1)!;
  assert.match(reconciled, new RegExp(`keep=${keep} drop=${stray}$`));
  // The running container's /etc files are still its own after the restart.
  const exec = await d.docker(['exec', keep, 'cat', '/etc/hostname']);
  assert.equal(exec.stdout.trim(), keep.slice(0, 12));
  assert.equal((await d.docker(['rm', '-f', keep, gone])).code, 0);
  assert.equal(held('journal-first', keep), false);
});
