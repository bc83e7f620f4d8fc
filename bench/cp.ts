// docker cp's throughput: one file of BENCH_CP_MIB MiB into and out of a running container,
// through the API (curl, the bare transfer) and the docker CLI, beside GNU tar extracting the
// same archive on the host (the floor). Prints JSON, one line per round; never asserts.
// `node dist/bench/cp.js`
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon } from '../test/helpers/daemon';

const MIB = Number(process.env.BENCH_CP_MIB ?? 256);
const ROUNDS = Number(process.env.BENCH_CP_ROUNDS ?? 3);

async function main(): Promise<void> {
  const d = await startDaemon();
  const work = fs.mkdtempSync(path.join(d.root, 'cpbench-'));
  try {
    await d.ensureBusybox();
    const sh = (c: string) => execSync(c, { env: d.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const time = (c: string) => { const t = process.hrtime.bigint(); sh(c); return Number((process.hrtime.bigint() - t) / 1_000_000n); };
    sh('docker run -d --name cpbench busybox sleep 3600');
    sh(`dd if=/dev/urandom of=${work}/big bs=1M count=${MIB} 2>/dev/null && tar -C ${work} -cf ${work}/big.tar big && mkdir ${work}/floor`);
    const api = `curl -sf --unix-socket ${d.socket} http://berth/v1.44/containers/cpbench/archive`;
    for (let i = 0; i < ROUNDS; i++) {
      console.log(JSON.stringify({
        mib: MIB,
        api_put_ms: time(`${api}?path=/tmp -X PUT -T ${work}/big.tar`),
        api_get_ms: time(`${api}?path=/tmp/big -o /dev/null`),
        docker_cp_in_ms: time(`docker cp ${work}/big cpbench:/tmp/big2`),
        docker_cp_out_ms: time(`docker cp cpbench:/tmp/big2 ${work}/out`),
        gnu_tar_extract_ms: time(`tar -C ${work}/floor -xf ${work}/big.tar`),
      }));
      fs.rmSync(path.join(work, 'out'), { force: true });
    }
  } finally {
    await d.stop();
  }
}

void main();
