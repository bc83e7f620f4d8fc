// The berth executable's entry. bin/berth runs its bundle (dist/cli/berth.js, `npm run build:cli`)
// when there is one, else this file as tsc built it.
import { runMain } from './main';

export { runMain };

// A spare (spare.ts) loads the bundle ahead of its call, and runs main once it has the caller's argv.
if (!(globalThis as Record<symbol, unknown>)[Symbol.for('berth.cli.spare')]) runMain();
