// Readers' pins: while `docker logs` opens the log's files, and while `docker logs -f` runs,
// the log's writer keeps the generations that the reader has not opened yet (it reads <log>.pin, "<pid> <gen>", before each deletion), so a
// follower that falls behind by more than max-file rotations still reads every line once. The
// files it has opened stay readable after their deletion (it holds them open).
// One pin per log: the lowest generation any follower in this berthd still needs. Not fsynced:
// a pin means nothing after a crash (its pid is gone, and the writer then ignores it).
import * as fsp from 'node:fs/promises';
import { Mutex } from '../../lib/mutex';
import { pinPath } from '../../runtime/logfiles';

/**
 * How far a follower may fall behind the writer before the oldest of what it has not read goes
 * (a client that stopped reading must not keep a chatty container's log forever): this many
 * bytes, and at least this many generations.
 */
const MAX_LAG_BYTES = 128 * 1024 * 1024;
const MIN_LAG_GENERATIONS = 64;

interface PinState { lock: Mutex; needs: Map<LogPin, number>; written: number | undefined }

const pins = new Map<string, PinState>();

export class LogPin {
  private constructor(private readonly file: string, private readonly state: PinState) {}

  /** Pins the whole log (generation 0: keep everything) until `need` says otherwise. */
  static async hold(file: string): Promise<LogPin> {
    let s = pins.get(file);
    if (!s) { s = { lock: new Mutex(), needs: new Map(), written: undefined }; pins.set(file, s); }
    const p = new LogPin(file, s);
    s.needs.set(p, 0);
    await p.write();
    return p;
  }

  /**
   * The follower has opened every generation below `gen`; `newest` is the writer's current one,
   * `genBytes` the size of a full generation.
   */
  async need(gen: number, newest = gen, genBytes = 0): Promise<void> {
    if (!this.state.needs.has(this)) return;
    const lag = Math.max(MIN_LAG_GENERATIONS, Math.floor(MAX_LAG_BYTES / Math.max(1, genBytes)));
    this.state.needs.set(this, Math.max(gen, newest - lag));
    await this.write();
  }

  async release(): Promise<void> {
    if (!this.state.needs.delete(this)) return;
    await this.write();
  }

  private write(): Promise<void> {
    const s = this.state;
    return s.lock.run(async () => {
      const file = pinPath(this.file);
      if (s.needs.size === 0) {
        if (pins.get(this.file) === s) pins.delete(this.file);
        s.written = undefined;
        await fsp.rm(file, { force: true });
        return;
      }
      const min = Math.min(...s.needs.values());
      if (min === s.written) return;
      // Whole or not at all: the writer must never read half a pin.
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await fsp.writeFile(tmp, `${process.pid} ${min}\n`);
        await fsp.rename(tmp, file);
        s.written = min;
      } catch (e) {
        // No directory: no log, nothing to keep.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    });
  }
}
