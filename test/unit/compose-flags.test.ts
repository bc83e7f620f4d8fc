// The flags of `berth compose` and its subcommands as compose v2 (2.29) parses them: the global
// flags only before the subcommand except --dry-run (cobra's one persistent flag), compose's
// deprecated spellings, and what berth refuses by name. Run as the built bin/berth, no daemon:
// every case ends before a request.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BERTH } from '../helpers/daemon';
import { writeProject } from '../fixtures/compose/project';
import { checkUpFlags, WATCH_UNSUPPORTED } from '../../src/cli/commands/compose/up';
import { parseBoolFlag } from '../../src/cli/commands/compose/ps';

function berth(cwd: string, args: string[], env: Record<string, string> = {}) {
  // a socket nobody listens on: a case that reached the daemon would fail differently
  const r = spawnSync(BERTH, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', DOCKER_HOST: 'unix:///nonexistent/berth.sock', BERTH_CLI_SPARE: '0', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = writeProject({
  'compose.yaml': 'services:\n  web:\n    image: busybox\n    environment:\n      A: ${A_VAR:-none}\n  db:\n    image: busybox\n',
  'other.env': 'A_VAR=from-other\n',
}, 'flags');

const message = (fn: () => void) => { try { fn(); } catch (e) { return (e as Error).message; } return 'accepted'; };

test('up: compose\'s flag checks and messages', () => {
  assert.equal(message(() => checkUpFlags({ abortOnContainerExit: true, abortOnContainerFailure: true })), '--abort-on-container-failure cannot be combined with --abort-on-container-exit');
  assert.equal(message(() => checkUpFlags({ detach: true, attach: ['web'] })), '--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch');
  assert.equal(message(() => checkUpFlags({ detach: true, abortOnContainerFailure: true })), '--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch');
  assert.equal(message(() => checkUpFlags({ wait: true, attachDependencies: true })), '--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies');
  assert.equal(message(() => checkUpFlags({ renewAnonVolumes: true, recreate: false })), '--no-recreate and --renew-anon-volumes are incompatible');
  assert.equal(message(() => checkUpFlags({ alwaysRecreateDeps: true, recreate: false })), '--always-recreate-deps and --no-recreate are incompatible');
  // --exit-code-from with --abort-on-container-failure is compose's failure cascade, not a conflict
  assert.equal(message(() => checkUpFlags({ exitCodeFrom: 'web', abortOnContainerFailure: true })), 'accepted');
  assert.equal(message(() => checkUpFlags({ detach: true, noAttach: ['web'] })), 'accepted');
  assert.equal(message(() => checkUpFlags({ watch: true })), WATCH_UNSUPPORTED);
  assert.match(message(() => checkUpFlags({ menu: true })), /--menu is not supported/);
});

test('ps --orphans takes pflag\'s bool words', () => {
  const p = parseBoolFlag('orphans');
  for (const v of ['true', 'TRUE', 't', '1']) assert.equal(p(v), true);
  for (const v of ['false', 'False', 'f', '0']) assert.equal(p(v), false);
  assert.equal(message(() => p('web')), 'invalid argument "web" for "--orphans" flag: strconv.ParseBool: parsing "web": invalid syntax');
});

test('the global flags go before the subcommand, as in compose (cobra local flags); --dry-run anywhere', () => {
  const after = berth(dir, ['compose', 'config', '-f', 'compose.yaml']);
  assert.equal(after.status, 125);
  assert.match(after.stderr, /unknown shorthand flag: 'f' in -f/);
  const p = berth(dir, ['compose', 'ps', '-p', 'x']);
  assert.match(p.stderr, /unknown shorthand flag: 'p' in -p/);
  assert.match(berth(dir, ['compose', 'up', '--profile', 'x']).stderr, /unknown flag: --profile/);
  // --dry-run is taken before and after the subcommand (what it does: test/e2e/compose-commands); exec cannot pretend
  for (const args of [['compose', '--dry-run', 'exec', 'web', 'true'], ['compose', 'exec', '--dry-run', 'web', 'true']]) {
    const r = berth(dir, args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, /berth compose exec: --dry-run is not supported/, args.join(' '));
  }
  const dry = berth(dir, ['compose', 'config', '--services', '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.equal(dry.stdout, 'db\nweb\n');
  assert.match(berth(dir, ['compose', '--compatibility', 'ps']).stderr, /--compatibility \(COMPOSE_COMPATIBILITY\) is not supported/);
  assert.match(berth(dir, ['compose', 'ps'], { COMPOSE_COMPATIBILITY: 'true' }).stderr, /--compatibility \(COMPOSE_COMPATIBILITY\) is not supported/);
});

test('compose\'s deprecated globals: --workdir, --no-ansi; -v; COMPOSE_ENV_FILES', () => {
  const elsewhere = fs.mkdtempSync(path.join(path.dirname(dir), 'cwd-'));
  const w = berth(elsewhere, ['compose', '--workdir', dir, 'config', '--services']);
  assert.equal(w.status, 0, w.stderr);
  assert.equal(w.stdout, 'db\nweb\n');
  assert.match(w.stderr, /option '--workdir' is DEPRECATED at root level! Please use '--project-directory' instead\./);
  const both = berth(dir, ['compose', '--workdir', dir, '--project-directory', dir, 'config']);
  assert.match(both.stderr, /cannot specify DEPRECATED "--workdir" and "--project-directory"/);
  assert.match(berth(dir, ['compose', '--no-ansi', '--ansi', 'always', 'config']).stderr, /cannot specify DEPRECATED "--no-ansi" and "--ansi"\. Please use only "--ansi"/);
  const n = berth(dir, ['compose', '--no-ansi', 'config', '-q']);
  assert.equal(n.status, 0, n.stderr);
  assert.match(n.stderr, /option '--no-ansi' is DEPRECATED ! Please use '--ansi' instead\./);
  assert.match(berth(dir, ['compose', '-v']).stdout, /^Docker Compose version v\d/);
  const env = berth(dir, ['compose', 'config', '--environment'], { COMPOSE_ENV_FILES: 'other.env' });
  assert.equal(env.status, 0, env.stderr);
  assert.match(env.stdout, /^A_VAR=from-other$/m);
  assert.match(berth(dir, ['compose', 'config'], { COMPOSE_ENV_FILES: 'other.env' }).stdout, /A: from-other/);
});

test('config --hash prints each service\'s config hash; the flags berth lacks are refused by name', () => {
  const h = berth(dir, ['compose', 'config', '--hash', '*']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^db [0-9a-f]{64}\nweb [0-9a-f]{64}\n$/);
  assert.equal(berth(dir, ['compose', 'config', '--hash', 'web']).stdout, h.stdout.split('\n')[1] + '\n');
  assert.match(berth(dir, ['compose', 'config', '--hash', 'nosuch']).stderr, /no such service: nosuch/);
  for (const flag of ['--variables', '--no-consistency', '--no-normalize', '--no-path-resolution', '--resolve-image-digests']) {
    const r = berth(dir, ['compose', 'config', flag]);
    assert.equal(r.status, 1, flag);
    assert.match(r.stderr, new RegExp(`berth compose config: ${flag} is not supported`));
  }
  assert.match(berth(dir, ['compose', 'build', '--ssh', 'default']).stderr, /--ssh is not supported/);
  assert.match(berth(dir, ['compose', 'build', '--builder', 'kit']).stderr, /--builder kit is not supported/);
  assert.match(berth(dir, ['compose', 'pull', '--policy', 'sometimes']).stderr, /invalid pull policy "sometimes"/);
  assert.match(berth(dir, ['compose', 'run', '--pull', 'sometimes', 'web']).stderr, /invalid --pull option "sometimes"/);
  const watch = berth(dir, ['compose', 'watch']);
  assert.equal(watch.status, 1);
  assert.equal(watch.stderr.trim(), WATCH_UNSUPPORTED);
  assert.equal(berth(dir, ['compose', 'up', '--watch']).stderr.trim(), WATCH_UNSUPPORTED);
});
