// Interpolation (12-interpolation.md): the operators, nesting, $$, values not keys, the errors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { interpolateString } from '../../src/compose/load/interpolate';
import { parseDotEnv } from '../../src/compose/load/dotenv';
import { loadFiles } from '../fixtures/compose/project';

const env: Record<string, string> = { SET: 'value', EMPTY: '', FOO: 'foo' };
const run = (s: string, warnings: string[] = []) => interpolateString(s, { lookup: (n) => env[n], warn: (m) => warnings.push(m) });

test('the operators, as the spec defines them for set, empty and unset variables', () => {
  assert.equal(run('${SET}'), 'value');
  assert.equal(run('$SET'), 'value');
  assert.equal(run('a${SET}b$SET.c'), 'avalueb' + 'value.c');
  assert.equal(run('${EMPTY:-d}'), 'd');
  assert.equal(run('${EMPTY-d}'), '');
  assert.equal(run('${UNSET-d}'), 'd');
  assert.equal(run('${UNSET:-d}'), 'd');
  assert.equal(run('${SET:-d}'), 'value');
  assert.equal(run('${SET:+alt}'), 'alt');
  assert.equal(run('${EMPTY:+alt}'), '');
  assert.equal(run('${EMPTY+alt}'), 'alt');
  assert.equal(run('${UNSET+alt}'), '');
  assert.equal(run('${SET:?must}'), 'value');
  assert.equal(run('${EMPTY?must}'), '');
  assert.throws(() => run('${EMPTY:?must be set}'), /required variable EMPTY is missing a value: must be set/);
  assert.throws(() => run('${UNSET?oops}'), /required variable UNSET is missing a value: oops/);
});

test('nested defaults, as in the spec', () => {
  assert.equal(run('${UNSET:-${FOO}}'), 'foo');
  assert.equal(run('${UNSET:-${ALSO_UNSET:-default}}'), 'default');
  assert.throws(() => run('${UNSET?$FOO}'), /missing a value: foo/);
  assert.equal(run('${UNSET:-a ${FOO} b}'), 'a foo b');
});

test('$$ is a literal dollar; a $ not followed by a name is kept; an unset variable is blank with a warning', () => {
  assert.equal(run('$$VAR_NOT_INTERPOLATED_BY_COMPOSE'), '$VAR_NOT_INTERPOLATED_BY_COMPOSE');
  assert.equal(run('cost: 5$ and $1 and $-'), 'cost: 5$ and $1 and $-');
  const warnings: string[] = [];
  assert.equal(run('x${NOPE}y', warnings), 'xy');
  assert.deepEqual(warnings, ['The "NOPE" variable is not set. Defaulting to a blank string.']);
  // the word of an operator is only expanded when it is used
  const none: string[] = [];
  run('${SET:-$NOPE}', none);
  assert.deepEqual(none, []);
});

test('a bad substitution is an error with compose\'s wording', () => {
  assert.throws(() => run('${FOO/a/b}'), /invalid interpolation format for "\$\{FOO\/a\/b\}"/);
  assert.throws(() => run('${FOO'), /invalid interpolation format/);
});

test('in a file: values are interpolated, keys are not (the spec\'s labels example); errors name the file and the path', () => {
  const p = loadFiles({
    'compose.yaml': `services:
  foo:
    image: "busybox:\${TAG:-latest}"
    labels:
      "$VAR_NOT_INTERPOLATED_BY_COMPOSE": "BAR"
  bar:
    image: busybox
    labels:
      - "$VAR_INTERPOLATED_BY_COMPOSE=BAR"
    command: "$$VAR_NOT_INTERPOLATED_BY_COMPOSE"
`,
  }, { env: { VAR_INTERPOLATED_BY_COMPOSE: 'k', VAR_NOT_INTERPOLATED_BY_COMPOSE: 'nope' } });
  assert.equal(p.services.foo.image, 'busybox:latest');
  assert.deepEqual(p.services.foo.labels, { $VAR_NOT_INTERPOLATED_BY_COMPOSE: 'BAR' });
  assert.deepEqual(p.services.bar.labels, { k: 'BAR' });
  assert.deepEqual(p.services.bar.command, ['$VAR_NOT_INTERPOLATED_BY_COMPOSE']);
  assert.throws(
    () => loadFiles({ 'compose.yaml': 'services:\n  web:\n    image: x\n    ports:\n      - "${PORT:?PORT must be set}:80"\n' }),
    (e: Error) => /compose\.yaml: services\.web\.ports\[0\]: required variable PORT is missing a value: PORT must be set$/.test(e.message),
  );
});

test('interpolated numbers and booleans are cast where the model has them', () => {
  const p = loadFiles({ 'compose.yaml': 'services:\n  web:\n    image: x\n    scale: ${N}\n    tty: ${T}\n    ports:\n      - target: ${P}\n        published: ${P}\n' }, { env: { N: '2', T: 'true', P: '80' } });
  assert.equal(p.services.web.scale, 2);
  assert.equal(p.services.web.tty, true);
  assert.deepEqual(p.services.web.ports, [{ target: 80, published: '80', protocol: 'tcp', mode: 'ingress' }]);
});

test('no interpolation when asked (config --no-interpolate)', () => {
  const p = loadFiles({ 'compose.yaml': 'services:\n  web:\n    image: "x:${TAG:?no}"\n' }, { interpolate: false });
  assert.equal(p.services.web.image, 'x:${TAG:?no}');
});

test('.env syntax: comments, export, quotes, inline comments, interpolation of earlier variables, multi-line double quotes', () => {
  const vars = parseDotEnv([
    '# a comment',
    'A=1',
    'export B=two # inline',
    "C='${A} literal'",
    'D="${A} interpolated\\nnext"',
    'E=${A}-${SHELL_ONLY}',
    'F="multi',
    'line"',
    'G=',
    'H = spaced ',
  ].join('\n'), '.env', (n) => (n === 'SHELL_ONLY' ? 'sh' : undefined));
  assert.deepEqual(vars, { A: '1', B: 'two', C: '${A} literal', D: '1 interpolated\nnext', E: '1-sh', F: 'multi\nline', G: '', H: 'spaced' });
});
