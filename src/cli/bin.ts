// The berth executable's entry. bin/berth runs its bundle (dist/cli/berth.js, `npm run build:cli`)
// when there is one, else this file as tsc built it.
import { runMain } from './main';

runMain();
