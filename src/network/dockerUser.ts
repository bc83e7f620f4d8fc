// Living beside dockerd. dockerd sets the iptables FORWARD policy to DROP and keeps the chain
// DOCKER-USER (jumped to first from FORWARD) for the host's own rules. netfilter has no
// cross-table accept, so whatever berth's own forward chain accepts is still dropped there:
// where DOCKER-USER exists, berth lets its bridges through it with one ACCEPT rule per bridge
// and direction, tagged with a comment naming berth's table. berth's forward chain runs before
// it (priority filter - 10) and has already dropped what berth's isolation forbids, so the
// ACCEPT passes only what berth allowed. Nothing else in dockerd's chains is touched, and a
// host without DOCKER-USER gets no iptables call beyond the one that looks for it.
//
// The `iptables` command is used (not nft) so that both of its backends work: dockerd on
// iptables-legacy keeps its rules where nft cannot see them.
import { spawn } from 'node:child_process';
import { log } from '../lib/log';

const CHAIN = 'DOCKER-USER';

function iptables(args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(args[0] === 'restore' ? 'iptables-restore' : 'iptables', args[0] === 'restore' ? args.slice(1) : args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    p.on('error', (e) => resolve({ code: -1, out, err: e.message }));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    p.stdin.on('error', () => undefined);
    p.stdin.end(input ?? '');
  });
}

export class DockerUserRules {
  private readonly tag: string;

  /** `table`: berth's nftables table name, which tells this daemon's rules from another's. */
  constructor(table: string) {
    this.tag = `berth:${table}`;
  }

  private rulesFor(bridge: string): string[] {
    return [`-i ${bridge}`, `-o ${bridge}`].map((dir) => `${dir} -m comment --comment ${this.tag} -j ACCEPT`);
  }

  /**
   * Makes this daemon's rules in DOCKER-USER exactly one pair per bridge in `bridges`: adds the
   * missing ones at the top, deletes those of bridges that are gone. No chain: nothing to do.
   */
  async sync(bridges: string[]): Promise<void> {
    const listed = await iptables(['-w', '-S', CHAIN]);
    if (listed.code !== 0) return; // no dockerd chain (or no iptables): berth's own tables suffice
    // `-S` prints the rules as they are written, the comment quoted
    const have = listed.out.split('\n').map((l) => l.replace(/"/g, '')).filter((l) => l.includes(`--comment ${this.tag} `))
      .map((l) => l.replace(/^-A \S+ /, ''));
    const want = new Set(bridges.flatMap((b) => this.rulesFor(b)));
    const kept = new Set<string>();
    const lines: string[] = [];
    for (const r of have) {
      if (want.has(r) && !kept.has(r)) kept.add(r);
      else lines.push(`-D ${CHAIN} ${r}`); // gone, or a second copy
    }
    for (const r of want) if (!kept.has(r)) lines.push(`-I ${CHAIN} 1 ${r}`);
    if (!lines.length) return;
    const r = await iptables(['restore', '-w', '--noflush'], `*filter\n${lines.join('\n')}\nCOMMIT\n`);
    if (r.code !== 0) log.warn('DOCKER-USER rules not written', { error: r.err.trim() });
  }
}
