// The test daemons' address pools (test/helpers/poolClaims.ts): each running daemon's /16 is its
// own on the machine; a pool is given back at cleanup; a killed run's claims are taken over.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claimPool, releasePool } from '../helpers/poolClaims';

const dir = path.join(os.tmpdir(), 'berth-test-pools');
const mine = (x: number) => fs.readdirSync(dir).filter((n) => n.startsWith(`${x}.${process.pid}.`));

test('two roots get two pools, the same one each time asked; released, a pool is free again', () => {
  const a = claimPool('/tmp/claims-a', 100);
  const b = claimPool('/tmp/claims-b', a);
  try {
    assert.notEqual(a, b);
    assert.equal(claimPool('/tmp/claims-a', 150), a);
    assert.equal(mine(a).length, 1);
    releasePool('/tmp/claims-a');
    assert.equal(mine(a).length, 0);
  } finally {
    releasePool('/tmp/claims-a');
    releasePool('/tmp/claims-b');
  }
});

test('a live process\'s claim is passed over; a gone process\'s is taken over', () => {
  const x = claimPool('/tmp/claims-probe', 120);
  releasePool('/tmp/claims-probe');
  const gone = spawnSync('true').pid!;
  const stale = path.join(dir, `${x}.${gone}.dead`);
  const y = x === 191 ? 64 : x + 1;
  const live = path.join(dir, `${y}.1.live`); // pid 1 is always there
  fs.writeFileSync(stale, 'a killed run\n');
  fs.writeFileSync(live, 'another run\n');
  try {
    assert.equal(claimPool('/tmp/claims-c', x), x, 'the gone process\'s pool');
    assert.equal(fs.existsSync(stale), false);
    assert.notEqual(claimPool('/tmp/claims-d', y), y, 'the live claim\'s pool');
  } finally {
    releasePool('/tmp/claims-c');
    releasePool('/tmp/claims-d');
    fs.rmSync(stale, { force: true });
    fs.rmSync(live, { force: true });
  }
});
