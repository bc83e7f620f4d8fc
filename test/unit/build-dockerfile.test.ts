// The Dockerfile parser and the build cache records, without a daemon.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseDockerfile } from '../../src/engine/build/dockerfile';
import { BuildCache, stepKey } from '../../src/engine/build/cache';
import { ignoreMatcher, ignorePatterns } from '../../src/engine/build/context';

test('directives, comments, continuations, exec and shell forms, flags', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1.7',
    '# escape=`',
    '# a comment',
    'FROM --platform=linux/amd64 busybox AS base',
    'RUN echo one `',
    '# dropped inside a continuation',
    '    two',
    'CMD ["sh", "-c", "echo hi"]',
    'COPY --from=base --chown=1:2 /a /b',
    'run lower case',
  ].join('\n'));
  assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1.7', escape: '`' });
  const [from, run, cmd, copy, lower] = df.instructions;
  assert.equal(from.cmd, 'FROM');
  assert.deepEqual(from.flags, [{ name: 'platform', value: 'linux/amd64' }]);
  assert.equal(from.rest, 'busybox AS base');
  assert.equal(run.rest, 'echo one     two');
  assert.equal(run.line, 5);
  assert.deepEqual(cmd.json, ['sh', '-c', 'echo hi']);
  assert.deepEqual(copy.flags.map((f) => f.name), ['from', 'chown']);
  assert.equal(lower.cmd, 'RUN');
});

test('heredocs: plain, <<- with tabs stripped, quoted, several', () => {
  const df = parseDockerfile('FROM x\nRUN <<EOF\necho a\n  echo b\nEOF\nCOPY <<-"ONE" <<TWO /dst/\n\tfirst\n\tONE\nsecond\nTWO\nCMD x\n');
  const [, run, copy, cmd] = df.instructions;
  assert.deepEqual(run.heredocs, [{ name: 'EOF', content: 'echo a\n  echo b\n', quoted: false }]);
  assert.deepEqual(copy.heredocs, [{ name: 'ONE', content: 'first\n', quoted: true }, { name: 'TWO', content: 'second\n', quoted: false }]);
  assert.equal(cmd.cmd, 'CMD');
});

test('bad input is refused with the line', () => {
  assert.throws(() => parseDockerfile('FROM x\nNOPE y\n'), /line 2: unknown instruction: NOPE/);
  assert.throws(() => parseDockerfile('# syntax=example.com/other/frontend:1\nFROM x\n'), /frontend example.com\/other\/frontend:1 is not supported/);
  assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\nnever closed\n'), /unterminated heredoc EOF/);
});

test('.dockerignore: exclusions, ** and ! exceptions', () => {
  const m = ignoreMatcher(ignorePatterns('# comment\n*.log\n**/tmp\n!keep.log\n\n'));
  assert.equal(m('a.log'), true);
  assert.equal(m('keep.log'), false);
  assert.equal(m('deep/down/tmp'), true);
  assert.equal(m('src/main.ts'), false);
});

test('build cache: records survive a new instance; a record whose image is gone is a miss and is dropped', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bcache-'));
  try {
    const key = stepKey({ parent: null, createdBy: 'RUN x', sources: 'abc' });
    assert.notEqual(key, stepKey({ parent: null, createdBy: 'RUN x', sources: 'abd' }));
    const img = `sha256:${'1'.repeat(64)}` as const;
    await new BuildCache(root).put(key, img);
    const again = new BuildCache(root);
    assert.equal(await again.get(key, () => true), img);
    fs.writeFileSync(path.join(root, 'builder', 'cache', `.${key}.json.abc.tmp`), 'half');
    await again.reconcile();
    assert.deepEqual(fs.readdirSync(path.join(root, 'builder', 'cache')), [`${key}.json`]);
    assert.equal(await again.get(key, () => false), undefined);
    assert.deepEqual(fs.readdirSync(path.join(root, 'builder', 'cache')), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
