// The volume store's conformance suite: any VolumeStore passes it.
import { describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VolumeRecord, VolumeStore } from '../../../src/engine/volumes/types';
import { mount, umount2, MNT_DETACH } from '../../../src/lib/sys/mount';
import { harnessTest, kind } from './util';

export interface VolumeHarness {
  /** A new store on the same state, reconciled: a daemon (re)start. */
  open(): Promise<VolumeStore>;
  /** What a crash in the middle of creating `name` leaves on disk. */
  crashDuringCreate(name: string): Promise<void>;
  /** What a crash in the middle of removing `name` (an existing volume) leaves on disk. */
  crashDuringRemove(store: VolumeStore, name: string): Promise<void>;
  cleanup(): Promise<void>;
}

function rec(name: string, extra: Partial<VolumeRecord> = {}): VolumeRecord {
  return { Name: name, Driver: 'local', CreatedAt: '2026-01-01T00:00:00Z', Labels: { a: 'b' }, Options: null, ...extra };
}

export function volumeStoreConformance(name: string, factory: () => Promise<VolumeHarness>): void {
  describe(`volume store conformance: ${name}`, () => {
    const withStore = harnessTest<VolumeStore, VolumeHarness>(factory);

    withStore('a created volume has an empty data directory; record and data survive a restart', async (s, h) => {
      const r = await s.create(rec('v1', { Options: { type: 'tmpfs', device: 'tmpfs' } }));
      assert.deepEqual(r, rec('v1', { Options: { type: 'tmpfs', device: 'tmpfs' } }));
      assert.deepEqual(s.get('v1'), r);
      assert.deepEqual(fs.readdirSync(s.dataPath('v1')), []);
      fs.writeFileSync(path.join(s.dataPath('v1'), 'db'), 'rows');
      const s2 = await h.open();
      assert.deepEqual(s2.get('v1'), r);
      assert.deepEqual(s2.list().map((v) => v.Name), ['v1']);
      assert.equal(fs.readFileSync(path.join(s2.dataPath('v1'), 'db'), 'utf8'), 'rows');
    });

    withStore('a name is taken once: a second create, even a concurrent one, is a Conflict', async (s) => {
      await s.create(rec('dup'));
      await assert.rejects(s.create(rec('dup')), kind('Conflict'));
      const results = await Promise.allSettled([s.create(rec('race')), s.create(rec('race')), s.create(rec('race'))]);
      assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
      for (const x of results) if (x.status === 'rejected') assert.ok(kind('Conflict')(x.reason), String(x.reason));
      assert.equal(s.list().filter((v) => v.Name === 'race').length, 1);
    });

    withStore('remove takes the record and the data; a missing volume is NotFound', async (s, h) => {
      await s.create(rec('gone'));
      fs.writeFileSync(path.join(s.dataPath('gone'), 'f'), 'x');
      await s.remove('gone');
      assert.equal(s.get('gone'), undefined);
      assert.equal(fs.existsSync(s.dataPath('gone')), false);
      await assert.rejects(s.remove('gone'), kind('NotFound'));
      assert.equal((await h.open()).get('gone'), undefined);
    });

    withStore('a removal never reaches through a mount on the data directory', async (s) => {
      await s.create(rec('mounted'));
      const outside = fs.mkdtempSync(path.join(path.dirname(s.dataPath('mounted')), '..', '.keep-'));
      fs.writeFileSync(path.join(outside, 'precious'), 'host data');
      mount(outside, s.dataPath('mounted'), null, 0x1000 /* MS_BIND */);
      try {
        await assert.rejects(s.remove('mounted'), kind('System'));
        assert.ok(s.get('mounted'));
      } finally {
        umount2(s.dataPath('mounted'), MNT_DETACH);
      }
      assert.equal(fs.readFileSync(path.join(outside, 'precious'), 'utf8'), 'host data');
      fs.rmSync(outside, { recursive: true, force: true });
      await s.remove('mounted');
    });

    withStore('a staging directory beside the data is renamed over it whole; a left-over one is swept at restart', async (s, h) => {
      await s.create(rec('staged'));
      fs.mkdirSync(s.stagingPath('staged'));
      fs.writeFileSync(path.join(s.stagingPath('staged'), 'f'), 'whole');
      fs.renameSync(s.stagingPath('staged'), s.dataPath('staged'));
      assert.equal(fs.readFileSync(path.join(s.dataPath('staged'), 'f'), 'utf8'), 'whole');
      fs.mkdirSync(s.stagingPath('staged'));
      fs.writeFileSync(path.join(s.stagingPath('staged'), 'half'), 'cut short');
      const s2 = await h.open();
      assert.equal(fs.existsSync(s2.stagingPath('staged')), false);
      assert.deepEqual(fs.readdirSync(s2.dataPath('staged')), ['f']);
    });

    withStore('what a crash leaves in a create or a removal is gone after the restart; whole volumes stay', async (s, h) => {
      await s.create(rec('keep'));
      await s.create(rec('half-removed'));
      await h.crashDuringCreate('half-created');
      await h.crashDuringRemove(s, 'half-removed');
      const s2 = await h.open();
      assert.deepEqual(s2.list().map((v) => v.Name).sort(), ['keep']);
      // The names are free again.
      await s2.create(rec('half-created'));
      await s2.create(rec('half-removed'));
      assert.deepEqual(fs.readdirSync(s2.dataPath('half-created')), []);
    });
  });
}
