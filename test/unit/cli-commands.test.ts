// The berth CLI's command table (src/cli/main.ts): each row adds the names it claims, help lists
// every command with its description, and a run adds (and requires) only the command it names.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { Cli } from '../../src/cli/cli';
import { buildProgram, COMMANDS, type CommandEntry } from '../../src/cli/main';
import { cacheName, commandWords } from '../../src/cli/words';
import { cachePath } from '../../src/cli/launch';
import { SUBCOMMANDS } from '../../src/cli/commands/compose';
import { BERTH } from '../helpers/daemon';

const full = () => buildProgram(new Cli()).commands;
const names = (cmd: Command) => cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]).sort();

function checkTable(table: readonly CommandEntry[], where: string): void {
  for (const row of table) {
    const parent = new Command('berth').enablePositionalOptions();
    row.add(parent, new Cli(), []);
    assert.deepEqual(names(parent), [...row.names].sort(), `${where}: the row for ${row.names.join('|')} adds other names`);
    for (const c of parent.commands) assert.ok(c.description(), `${where} ${c.name()}: no description`);
    if (row.table) checkTable(row.table, `${where} ${row.names[0]}`);
  }
}

test('every row of the command table adds exactly the names it claims, each with a description', () => {
  checkTable(COMMANDS, 'berth');
  checkTable(SUBCOMMANDS, 'berth compose');
  const all = COMMANDS.flatMap((r) => r.names);
  assert.equal(new Set(all).size, all.length, 'a name in two rows');
});

/** `name|alias ... description` lines of a help text's Commands: section. */
function helpCommands(text: string): Map<string, string> {
  const section = text.split('\nCommands:\n')[1] ?? '';
  const out = new Map<string, string>();
  let last = '';
  for (const line of section.split('\n')) {
    const m = /^ {2}(\S+)(?: \[[^\]]*\]| <[^>]*>)*\s{2,}(\S.*)$/.exec(line);
    if (m) out.set(last = m[1].split('|')[0], m[2]);
    else if (/^ {3,}\S/.test(line) && last) out.set(last, `${out.get(last)} ${line.trim()}`); // wrapped at 80 columns
  }
  return out;
}

function checkHelp(args: string[], cmd: Command, env: NodeJS.ProcessEnv): void {
  const listed = helpCommands(execFileSync(BERTH, [...args, '--help'], { env, encoding: 'utf8' }));
  for (const c of cmd.commands) {
    assert.equal(listed.get(c.name()), c.description().split('\n')[0], `berth ${args.join(' ')} --help: ${c.name()}`);
    if (c.commands.length) checkHelp([...args, c.name()], c, env);
  }
}

test('berth --help and each group\'s --help list every command with its description (bundle and dist)', () => {
  const full = buildProgram(new Cli());
  assert.ok(full.commands.length >= COMMANDS.length);
  for (const bundle of ['1', '0']) checkHelp([], full, { ...process.env, BERTH_CLI_BUNDLE: bundle });
});

test('a run adds and requires only the command it names', () => {
  const main = require.resolve('../../src/cli/main');
  const script = `const m = require(${JSON.stringify(main)}); const { Cli } = require(${JSON.stringify(require.resolve('../../src/cli/cli'))});
    const p = m.buildProgram(new Cli(), JSON.parse(process.argv[1]));
    const loaded = Object.keys(require.cache).filter((f) => f.includes('/cli/commands/')).map((f) => f.replace(/.*\\/cli\\/commands\\//, ''));
    process.stdout.write(JSON.stringify({ loaded: loaded.sort(), top: p.commands.map((c) => c.name()), sub: p.commands[0]?.commands.map((c) => c.name()) ?? [] }));`;
  const probe = (argv: string[]) => JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(argv)], { encoding: 'utf8' }));
  assert.deepEqual(probe(['ps', '-a']), { loaded: ['ps.js'], top: ['ps'], sub: [] });
  assert.deepEqual(probe(['-H', 'unix:///x.sock', 'version']), { loaded: ['system.js'], top: ['version'], sub: [] });
  assert.deepEqual(probe(['container', 'ls', '-q']), { loaded: ['ps.js'], top: ['container'], sub: ['ls'] });
  const run = probe(['run', '--rm', 'busybox', 'true']);
  assert.deepEqual(run.top, ['run'], 'run without create (each sets up the container flags)');
  assert.deepEqual(probe(['create', 'busybox']).top, ['create']);
  // compose adds (and requires) only its subcommand, past its own flags
  const composePs = probe(['compose', '-f', 'x.yml', '-p', 'x', 'ps', '-a']);
  assert.deepEqual([composePs.top, composePs.sub], [['compose'], ['ps']]);
  assert.deepEqual(composePs.loaded.filter((f: string) => f.startsWith('compose/')).sort(), ['compose/index.js', 'compose/ps.js', 'compose/target.js']);
  assert.equal(probe(['compose', '--help']).sub.length, SUBCOMMANDS.length);
  assert.ok(!run.loaded.includes('registryserver.js') && !run.loaded.includes('build.js'), run.loaded.join(' '));
  // help and an unknown command need every command
  const files = fs.readdirSync(path.join(path.dirname(main), 'commands')).filter((f) => f.endsWith('.js'));
  for (const argv of [[], ['--help'], ['nosuch']]) assert.equal(probe(argv).top.length, full().length, argv.join(' '));
  assert.ok(probe(['nosuch']).loaded.length >= files.length - 1);
});


test('commandWords skips global flags and their values, and stops at the first flag after the command', () => {
  assert.deepEqual(commandWords(['-H', 'tcp://x:1', '--debug', 'container', 'ls', '-a', 'x']), ['container', 'ls']);
  assert.deepEqual(commandWords(['--host=unix:///s', 'run', 'busybox', 'true']), ['run', 'busybox', 'true']);
  assert.deepEqual(commandWords(['-l', 'debug', '--', 'ps']), []);
  assert.deepEqual(commandWords(['--help']), []);
  // compose's own flags (and their values) before its subcommand
  assert.deepEqual(commandWords(['compose', '-f', 'a.yml', '--dry-run', '-p', 'x', 'up', '-d', 'web']), ['compose', 'up']);
  assert.deepEqual(commandWords(['compose', '--file=a.yml', '--profile', 'p', 'ps', 'web']), ['compose', 'ps', 'web']);
});

test('a code cache is named by the command, and by the subcommand of a group', () => {
  assert.equal(cacheName(['ps', '-a']), 'ps');
  assert.equal(cacheName(['run', '--rm', 'busybox', 'true']), 'run');
  assert.equal(cacheName(['-H', 'unix:///s', 'container', 'ls', '-a']), 'container-ls');
  assert.equal(cacheName(['image', 'ls']), 'image-ls');
  assert.equal(cacheName(['compose', 'up', '-d']), 'compose-up');
  // compose's own flags and their values come before its subcommand
  assert.equal(cacheName(['compose', '-f', 'a.yml', '--project-name', 'p', '--dry-run', 'up', '-d']), 'compose-up');
  assert.equal(cacheName(['compose', '--file=a.yml', 'ps']), 'compose-ps');
  assert.equal(cacheName(['compose', '-f', 'a.yml']), 'compose');
  assert.equal(cacheName(['--help']), '_');
  assert.equal(cacheName(['../x']), '_');
  assert.equal(cacheName(['compose', 'Up/..']), '_');
});

test('the code cache is named per command and per build of the bundle', () => {
  const st = (size: number, mtimeMs: number) => ({ size, mtimeMs }) as fs.Stats;
  const a = cachePath(['ps', '-a'], st(100, 1000));
  assert.equal(cachePath(['-H', 'unix:///s', 'ps'], st(100, 1000)), a);
  assert.notEqual(cachePath(['version'], st(100, 1000)), a);
  assert.notEqual(cachePath(['ps'], st(101, 1000)), a);
  assert.notEqual(cachePath(['ps'], st(100, 2000)), a);
  assert.notEqual(cachePath(['ps'], st(100, 1000), ['--max-semi-space-size=1']), cachePath(['ps'], st(100, 1000), []));
  // no path out of the cache directory from argv
  assert.equal(path.dirname(cachePath(['../../etc'], st(1, 1))), path.dirname(a));
});
