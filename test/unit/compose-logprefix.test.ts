import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LogPrefixer, useColor } from '../../src/compose/progress/logprefix';

function sink() {
  const s = { text: '', write(t: string) { s.text += t; } };
  return s;
}

test('prefixes pad to the longest registered name, as compose v2', () => {
  const out = sink();
  const p = new LogPrefixer({ out, color: false, prefix: true });
  p.register('web-1');
  p.register('db-1');
  p.log('web-1', 'hello');
  p.log('db-1', 'a\nb');
  assert.equal(out.text, 'web-1  | hello\ndb-1   | a\ndb-1   | b\n');
});

test('no prefix: the lines as they are', () => {
  const out = sink();
  const p = new LogPrefixer({ out, color: false, prefix: false });
  p.log('web-1', 'hello');
  assert.equal(out.text, 'hello\n');
});

test('colours: one per container in compose\'s order, the prefix coloured, the line not', () => {
  const out = sink();
  const p = new LogPrefixer({ out, color: true, prefix: true });
  p.register('a-1');
  p.register('b-1');
  p.log('a-1', 'x');
  p.log('b-1', 'y');
  p.status('a-1', 'exited with code 0');
  assert.equal(out.text,
    '\x1b[36ma-1  | \x1b[0mx\n' +
    '\x1b[33mb-1  | \x1b[0my\n' +
    '\x1b[36m\r\x1b[Ka-1 exited with code 0\n\x1b[0m');
});

test('line writer joins chunks, splits lines, keeps split UTF-8, flushes the tail', () => {
  const out = sink();
  const p = new LogPrefixer({ out, color: false, prefix: true });
  const w = p.lineWriter('s-1');
  const euro = Buffer.from('€\n');
  w.write(Buffer.concat([Buffer.from('ab'), euro.subarray(0, 1)]));
  w.write(Buffer.concat([euro.subarray(1), Buffer.from('c\nlast')]));
  w.end();
  assert.equal(out.text, 's-1  | ab€\ns-1  | c\ns-1  | last\n');
});

test('colour only on a terminal, off with --no-color or NO_COLOR', () => {
  assert.equal(useColor({ isTTY: true }, false, {}), true);
  assert.equal(useColor({ isTTY: false }, false, {}), false);
  assert.equal(useColor({ isTTY: true }, true, {}), false);
  assert.equal(useColor({ isTTY: true }, false, { NO_COLOR: '1' }), false);
  assert.equal(useColor({ isTTY: false }, false, { COMPOSE_ANSI: 'always' }), true);
});
