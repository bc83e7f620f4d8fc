// compose v2's progress output: plain lines off a terminal, one redrawn line per resource on one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress } from '../../src/compose/progress/progress';

function sink(isTTY: boolean) {
  const s = { text: '', isTTY, columns: 80, write(x: string) { s.text += x; return true; } };
  return s;
}

test('plain: one line per event, as compose\'s plain writer prints them', () => {
  const out = sink(false);
  const p = createProgress(out, 'auto');
  p.event({ id: 'Network app_default', status: 'working', text: 'Creating' });
  p.event({ id: 'Network app_default', status: 'done', text: 'Created' });
  p.message('WARN[0000] careful');
  p.event({ id: 'Container app-web-1', status: 'error', text: 'Error', statusText: 'boom' });
  p.stop();
  assert.equal(out.text, ' Network app_default Creating \n Network app_default Created \nWARN[0000] careful\n Container app-web-1 Error boom\n');
});

test('dry run: compose\'s " DRY-RUN MODE - " before each resource\'s line, plain and on a terminal', () => {
  const out = sink(false);
  const p = createProgress(out, 'plain', 'Running', ' DRY-RUN MODE - ');
  p.event({ id: 'Container app-web-1', status: 'done', text: 'Started' });
  p.message('WARN[0000] careful');
  assert.equal(out.text, ' DRY-RUN MODE -  Container app-web-1 Started \nWARN[0000] careful\n');
  const tty = sink(true);
  const t = createProgress(tty, 'tty', 'Running', ' DRY-RUN MODE - ');
  t.event({ id: 'Container app-web-1', status: 'done', text: 'Started' });
  t.stop();
  // eslint-disable-next-line no-control-regex
  assert.match(tty.text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''), / ✔  DRY-RUN MODE - Container app-web-1 {2}Started/);
});

test('tty: a [+] title with the count done, one line per resource redrawn in place, ✔ when done', () => {
  const out = sink(true);
  const p = createProgress(out, 'auto');
  p.event({ id: 'Network app_default', status: 'done', text: 'Created' });
  p.event({ id: 'Container app-web-1', status: 'working', text: 'Starting' });
  p.event({ id: 'Container app-web-1', status: 'done', text: 'Started' });
  p.stop();
  // eslint-disable-next-line no-control-regex
  const plain = out.text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  const frames = plain.split('[+] ');
  const last = frames[frames.length - 1].split('\n');
  assert.equal(last[0], 'Running 2/2');
  assert.match(last[1], /^ ✔ Network app_default  Created +\d+\.\ds$/);
  assert.match(last[2], /^ ✔ Container app-web-1  Started +\d+\.\ds$/);
  assert.equal(last[1].length, 80 - 1);
  // a working line has a spinner, not a tick
  assert.match(frames[2], /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Container app-web-1  Starting/);
  // each redraw moves back up over the lines it drew
  assert.ok(out.text.includes('\x1b[3A'));
  // quiet prints nothing
  const q = sink(true);
  const qp = createProgress(q, 'quiet');
  qp.event({ id: 'x', status: 'done', text: 'y' });
  qp.stop();
  assert.equal(q.text, '');
});
