// Parsing of docker's typed flag values: sizes, CPUs, ulimits, ports, mounts, env files, ...
import * as fs from 'node:fs';
import { parseDuration } from './format/units';
import { ramInBytes } from '../lib/units';
import { StatusError } from './cli';

export function flagError(flag: string, value: string, msg: string): StatusError {
  return new StatusError(125, `invalid argument "${value}" for "${flag}" flag: ${msg}\nSee '${process.env.BERTH_CMD_PATH ?? 'berth run'} --help'.`);
}

export function memBytes(flag: string, v: string): number {
  try {
    return ramInBytes(v);
  } catch (e) {
    throw flagError(flag, v, (e as Error).message);
  }
}

/** --memory-swap: -1 means unlimited. */
export function memSwapBytes(flag: string, v: string): number {
  if (v === '-1') return -1;
  return memBytes(flag, v);
}

/** --cpus "0.5" → NanoCpus 500000000 (exact decimal arithmetic, like big.Rat). */
export function nanoCpus(v: string): number {
  const m = /^\s*(\d*)(?:\.(\d*))?\s*$/.exec(v);
  if (!m || (!m[1] && !m[2])) throw flagError('--cpus', v, `failed to parse ${v} as a rational number`);
  const frac = m[2] ?? '';
  if (frac.replace(/0+$/, '').length > 9) throw flagError('--cpus', v, 'value is too precise');
  return Number(m[1] || '0') * 1e9 + Number((frac + '000000000').slice(0, 9));
}

export function durationNs(flag: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw flagError(flag, v, (e as Error).message);
  }
}

export function parseUlimit(v: string): { Name: string; Hard: number; Soft: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw flagError('--ulimit', v, `invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  if (soft > hard && hard !== -1) throw flagError('--ulimit', v, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1], Hard: hard, Soft: soft };
}

/** -e FOO=bar, or -e FOO (taken from the environment when set, else passed as the bare name). */
export function normalizeEnv(v: string): string {
  if (v.includes('=')) {
    if (v.startsWith('=')) throw new StatusError(125, `invalid environment variable: ${v}`);
    return v;
  }
  const val = process.env[v];
  return val !== undefined ? `${v}=${val}` : v;
}

/** docker's kvfile: skip blank lines and # comments; "NAME" alone is looked up in the environment. */
export function readKvFile(file: string, lookupEnv: boolean): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new StatusError(125, `open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  const out: string[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq === 0) throw new StatusError(125, `invalid variable in ${file} line ${i + 1}: ${raw}`);
    if (eq > 0) {
      const name = line.slice(0, eq);
      if (/\s/.test(name)) throw new StatusError(125, `variable '${name}' contains whitespaces`);
      out.push(line);
    } else {
      const name = line.trim();
      if (lookupEnv) {
        const val = process.env[name];
        if (val !== undefined) out.push(`${name}=${val}`);
      } else {
        out.push(name);
      }
    }
  });
  return out;
}

export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const i = l.indexOf('=');
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

export function parseKeyValueMap(flag: string, items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const i = it.indexOf('=');
    if (i <= 0) throw flagError(flag, it, `invalid key=value: ${it}`);
    out[it.slice(0, i)] = it.slice(i + 1);
  }
  return out;
}

/** Capabilities as docker normalises them: upper case, CAP_ prefix, except ALL. */
export function normalizeCaps(caps: string[]): string[] | null {
  if (!caps.length) return null;
  const out: string[] = [];
  for (const c of caps) {
    let u = c.trim().toUpperCase();
    if (u !== 'ALL' && !u.startsWith('CAP_')) u = 'CAP_' + u;
    if (!out.includes(u)) out.push(u);
  }
  return out;
}

export function parseRestart(v: string): { Name: string; MaximumRetryCount: number } {
  if (!v) return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count] = v.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw new StatusError(125, `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  if (count !== undefined) {
    if (name !== 'on-failure') throw new StatusError(125, `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if (!/^\d+$/.test(count)) throw new StatusError(125, `invalid restart policy format: maximum retry count must be an integer`);
  }
  return { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
}

export interface PortSpec {
  exposed: string[];
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
}

function splitRange(r: string): [number, number] {
  const [a, b] = r.split('-');
  const s = Number(a), e = b !== undefined ? Number(b) : s;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > 65535 || e < s) throw new Error(`invalid port range: ${r}`);
  return [s, e];
}

/** -p [ip:][hostPort:]containerPort[/proto] */
export function parsePublish(specs: string[], into: PortSpec): void {
  for (const spec of specs) {
    let rest = spec;
    let proto = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      proto = rest.slice(slash + 1).toLowerCase() || 'tcp';
      rest = rest.slice(0, slash);
    }
    let ip = '';
    let hostPort = '';
    let containerPort = rest;
    const lastColon = rest.lastIndexOf(':');
    if (lastColon >= 0) {
      containerPort = rest.slice(lastColon + 1);
      const front = rest.slice(0, lastColon);
      const ipEnd = front.lastIndexOf(':');
      if (front.startsWith('[')) {
        const close = front.indexOf(']');
        ip = front.slice(1, close);
        hostPort = front.slice(close + 2);
      } else if (ipEnd >= 0) {
        ip = front.slice(0, ipEnd);
        hostPort = front.slice(ipEnd + 1);
      } else {
        hostPort = front;
      }
    }
    let cStart: number, cEnd: number;
    try {
      [cStart, cEnd] = splitRange(containerPort);
    } catch {
      throw new StatusError(125, `invalid argument "${spec}" for "-p, --publish" flag: invalid containerPort: ${containerPort}`);
    }
    let hStart = 0, hEnd = 0;
    if (hostPort) {
      try {
        [hStart, hEnd] = splitRange(hostPort);
      } catch {
        throw new StatusError(125, `invalid argument "${spec}" for "-p, --publish" flag: invalid hostPort: ${hostPort}`);
      }
    }
    for (let p = cStart; p <= cEnd; p++) {
      const key = `${p}/${proto}`;
      if (!into.exposed.includes(key)) into.exposed.push(key);
      let hp = '';
      if (hostPort) {
        if (hEnd - hStart === cEnd - cStart) hp = String(hStart + (p - cStart));
        else hp = hStart === hEnd ? String(hStart) : `${hStart}-${hEnd}`;
      }
      (into.bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
}

/** --expose 9000 or 9000-9002/udp */
export function parseExpose(specs: string[], into: PortSpec): void {
  for (const spec of specs) {
    const [port, proto = 'tcp'] = spec.split('/');
    const [s, e] = splitRange(port);
    for (let p = s; p <= e; p++) {
      const key = `${p}/${proto}`;
      if (!into.exposed.includes(key)) into.exposed.push(key);
    }
  }
}

/** --mount type=bind,src=/a,dst=/b,readonly */
export function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly: boolean | undefined;
  const bind: Record<string, unknown> = {};
  const vol: Record<string, unknown> = {};
  const tmpfs: Record<string, unknown> = {};
  for (const field of spec.split(',')) {
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? undefined : field.slice(i + 1);
    const bool = (x: string | undefined) => x === undefined || ['1', 'true'].includes(x.toLowerCase());
    switch (key) {
      case 'type': type = val ?? ''; break;
      case 'source': case 'src': source = val; break;
      case 'target': case 'dst': case 'destination': target = val; break;
      case 'readonly': case 'ro': readOnly = bool(val); break;
      case 'bind-propagation': bind.Propagation = val; break;
      case 'bind-nonrecursive': bind.NonRecursive = bool(val); break;
      case 'volume-nocopy': vol.NoCopy = bool(val); break;
      case 'volume-driver': vol.DriverConfig = { Name: val }; break;
      case 'volume-opt': {
        const [k, ...v] = (val ?? '').split('=');
        const dc = (vol.DriverConfig ??= {}) as Record<string, unknown>;
        ((dc.Options ??= {}) as Record<string, string>)[k] = v.join('=');
        break;
      }
      case 'volume-label': {
        const [k, ...v] = (val ?? '').split('=');
        ((vol.Labels ??= {}) as Record<string, string>)[k] = v.join('=');
        break;
      }
      case 'tmpfs-size': tmpfs.SizeBytes = ramInBytes(val ?? '0'); break;
      case 'tmpfs-mode': tmpfs.Mode = parseInt(val ?? '0', 8); break;
      default: throw new StatusError(125, `invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
    }
  }
  if (!target) throw new StatusError(125, `invalid argument "${spec}" for "--mount" flag: target is required`);
  m.Type = type;
  if (source) m.Source = source;
  m.Target = target;
  if (readOnly) m.ReadOnly = true;
  if (Object.keys(bind).length) m.BindOptions = bind;
  if (Object.keys(vol).length) m.VolumeOptions = vol;
  if (Object.keys(tmpfs).length) m.TmpfsOptions = tmpfs;
  return m;
}

/** --security-opt: seccomp=<file> is sent as the file's JSON content, label:x becomes label=x. */
export function parseSecurityOpts(opts: string[]): string[] | null {
  if (!opts.length) return null;
  return opts.map((o) => {
    let opt = o;
    if (!opt.includes('=') && opt.includes(':')) opt = opt.replace(':', '=');
    const [k, ...rest] = opt.split('=');
    const v = rest.join('=');
    if (k === 'seccomp' && v && v !== 'unconfined' && v !== 'builtin') {
      try {
        return 'seccomp=' + JSON.stringify(JSON.parse(fs.readFileSync(v, 'utf8')));
      } catch (e) {
        throw new StatusError(125, `opening seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
    }
    return opt;
  });
}
