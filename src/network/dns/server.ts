// The embedded DNS server of one user-defined network. Docker answers on 127.0.0.11 inside
// each container (a DNAT in the container's namespace to a socket it opens there); berth
// listens on the network's gateway address instead: the container reaches it over its own
// eth0 without any rule in its namespace, one socket serves every container of the network, and
// the asking network is known from the socket (answers are scoped to it, as Docker's are).
// Names the network knows are answered here; everything else goes to the host's resolvers
// (berthd runs in the host's namespace, so even a loopback resolver of the host works).
import * as dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { log } from '../../lib/log';

/** The addresses of a name on this network, or undefined if the network does not know it. */
export type NameLookup = (name: string) => { v4: string[]; v6: string[] } | undefined;

/** Where to forward a query from this client address (its container's --dns, else the host's). */
export type Upstreams = (client: string) => string[];

const FORWARD_TIMEOUT_MS = 3000;

export class NetworkDnsServer {
  private socket?: dgram.Socket;

  constructor(private readonly address: string, private readonly lookup: NameLookup, private readonly upstreams: Upstreams) {}

  async listen(): Promise<void> {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: this.address, port: 53, exclusive: true }, () => { s.removeListener('error', reject); resolve(); });
    });
    s.on('message', (msg, rinfo) => void this.answer(s, msg, rinfo).catch((e) => log.debug('dns answer failed', { error: String(e) })));
    s.on('error', (e) => log.warn('dns socket error', { address: this.address, error: e.message }));
    this.socket = s;
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  private async answer(s: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    let q: dnsPacket.Packet;
    try { q = dnsPacket.decode(msg); } catch { return; }
    const question = q.questions?.[0];
    if (!question) return;
    const name = question.name.replace(/\.$/, '').toLowerCase();
    const known = this.lookup(name);
    if (known) {
      // a known name answers for itself: no AAAA (or no A) is an empty answer, not a forward
      const ips = question.type === 'A' ? known.v4 : question.type === 'AAAA' ? known.v6 : [];
      const type = question.type === 'AAAA' ? 'AAAA' as const : 'A' as const;
      const answers = ips.map((ip) => ({ type, name: question.name, ttl: 600, class: 'IN' as const, data: ip }));
      const reply = dnsPacket.encode({
        id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER,
        questions: q.questions, answers,
      });
      s.send(reply, rinfo.port, rinfo.address);
      return;
    }
    const reply = await this.forward(msg, rinfo.address);
    if (reply) s.send(reply, rinfo.port, rinfo.address);
  }

  /** Asks the upstreams in turn; the first answer is relayed as it came. */
  private async forward(msg: Buffer, client: string): Promise<Buffer | undefined> {
    for (const up of this.upstreams(client)) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const c = dgram.createSocket(up.includes(':') ? 'udp6' : 'udp4');
        const done = (b?: Buffer) => { clearTimeout(t); c.close(); resolve(b); };
        const t = setTimeout(() => done(), FORWARD_TIMEOUT_MS);
        c.on('error', () => done());
        c.on('message', (b) => done(b));
        c.send(msg, 53, up);
      });
      if (reply) return reply;
    }
    return undefined;
  }
}
