// Each running test daemon's address pool, a 10.x.0.0/16, is its own on the machine: test files
// run in parallel (and helpers' runs beside them), and two daemons on one /16 would put their
// bridges' routes over each other on the host. A daemon's root claims an x by a file in
// CLAIMS_DIR named `<x>.<pid>.<nonce>` (the test process's pid), given back when its root is
// cleaned up; the claims of a process that is gone (a killed run) are removed by whoever looks.
// A claim is made, then the x listed again: if another live claim is there, this one yields
// (of two racing claimants at most one keeps x, perhaps neither). A /16 the host already has
// on-link routes in (a daemon of another kind, a LAN) is passed over as well.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processAlive } from '../../src/daemon/pidfile';
import { hostOnLinkRoutes } from '../../src/engine/networks/hostReserved';

const CLAIMS_DIR = path.join(os.tmpdir(), 'berth-test-pools');
/** The second octets handed out: 10.64.0.0/16 to 10.191.0.0/16. */
const FIRST = 64;
const COUNT = 128;

const claims = new Map<string, { x: number; file: string }>();

/** The live claims of `x`; dead ones are removed on the way. */
function liveClaims(x: number): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(CLAIMS_DIR)) {
    const [nx, pid] = name.split('.');
    if (Number(nx) !== x) continue;
    if (processAlive(Number(pid))) out.push(name);
    else fs.rmSync(path.join(CLAIMS_DIR, name), { force: true });
  }
  return out;
}

function hostUses(x: number): boolean {
  return hostOnLinkRoutes().some((r) => r.prefix >= 16 && r.addr >>> 16 === ((10 << 8) | x));
}

/** The second octet of `root`'s pool: claimed at the first call (from `preferred` on), the same after. */
export function claimPool(root: string, preferred: number): number {
  const held = claims.get(root);
  if (held) return held.x;
  fs.mkdirSync(CLAIMS_DIR, { recursive: true });
  const start = (preferred - FIRST + COUNT) % COUNT;
  for (let i = 0; i < COUNT; i++) {
    const x = FIRST + ((start + i) % COUNT);
    if (liveClaims(x).length || hostUses(x)) continue;
    const name = `${x}.${process.pid}.${randomBytes(6).toString('hex')}`;
    const file = path.join(CLAIMS_DIR, name);
    fs.writeFileSync(file, `${root}\n`, { flag: 'wx' });
    if (liveClaims(x).every((n) => n === name)) {
      claims.set(root, { x, file });
      return x;
    }
    fs.rmSync(file, { force: true });
  }
  throw new Error(`no free test address pool under ${CLAIMS_DIR}: ${COUNT} daemons running?`);
}

/** Gives `root`'s pool back (its daemon is gone, its devices removed). */
export function releasePool(root: string): void {
  const held = claims.get(root);
  if (!held) return;
  claims.delete(root);
  fs.rmSync(held.file, { force: true });
}
