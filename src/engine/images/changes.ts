// `docker import -c` / `docker commit -c`: Dockerfile instructions applied to an image config
// (Docker's dockerfile.BuildFromConfig). Supported: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
// LABEL, ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR; JSON and shell forms.
import * as path from 'node:path';
import { InvalidParameterError } from '../../lib/errors';
import { parseDuration as parseGoDurationStrict } from '../../lib/duration';
import type { HealthConfig, ImageRunConfig } from '../../store/images/ImageStore';

const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

/** Parses an instruction's JSON (exec) form; undefined for the shell form. Shared with the builder. */
export function jsonArgs(rest: string): string[] | undefined {
  const t = rest.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* shell form */ }
  return undefined;
}

function envMap(env: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/**
 * Splits into words honouring "double" (with \ escapes) and 'single' quotes, and expands
 * $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} from `env` outside single quotes.
 */
export function splitWords(s: string, env: Map<string, string>): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const expand = (): string => {
    // at s[i] === '$'
    if (s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0) { i++; return '$'; }
      const body = s.slice(i + 2, end);
      i = end + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body);
      if (!m) return '';
      const v = env.get(m[1]);
      if (m[2] === '-') return v ? v : m[3];
      if (m[2] === '+') return v ? m[3] : '';
      return v ?? '';
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
    if (!m) { i++; return '$'; }
    i += 1 + m[0].length;
    return env.get(m[0]) ?? '';
  };
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
      continue;
    }
    inWord = true;
    if (c === '\\' && i + 1 < s.length) { cur += s[i + 1]; i += 2; continue; }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new InvalidParameterError(`unexpected end of statement while looking for matching single-quote`);
      cur += s.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length && /["\\$]/.test(s[i + 1])) { cur += s[i + 1]; i += 2; }
        else if (s[i] === '$') cur += expand();
        else cur += s[i++];
      }
      if (i >= s.length) throw new InvalidParameterError(`unexpected end of statement while looking for matching double-quote`);
      i++;
      continue;
    }
    if (c === '$') { cur += expand(); continue; }
    cur += c;
    i++;
  }
  if (inWord) words.push(cur);
  return words;
}

function parseKeyValues(instr: string, rest: string, env: Map<string, string>): [string, string][] {
  const words = splitWords(rest, env);
  if (words.length === 0) throw new InvalidParameterError(`${instr} requires at least one argument`);
  if (!words[0].includes('=')) {
    // legacy form: ENV key value with spaces
    const m = /^\s*(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw new InvalidParameterError(`${instr} must have two arguments`);
    return [[m[1], splitWords(m[2], env).join(' ')]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidParameterError(`${instr} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** Go duration (`30s`, `1m30s`, `500ms`) to nanoseconds; a bad one is the client's fault. */
export function parseDuration(s: string): number {
  try {
    return parseGoDurationStrict(s);
  } catch (e) {
    throw new InvalidParameterError((e as Error).message);
  }
}

function parseHealthcheck(rest: string): HealthConfig {
  let r = rest.trim();
  const hc: HealthConfig = {};
  if (r.toUpperCase() === 'NONE') return { Test: ['NONE'] };
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s+/.exec(r);
    if (!m) break;
    r = r.slice(m[0].length);
    switch (m[1]) {
      case 'interval': hc.Interval = parseDuration(m[2]); break;
      case 'timeout': hc.Timeout = parseDuration(m[2]); break;
      case 'start-period': hc.StartPeriod = parseDuration(m[2]); break;
      case 'start-interval': hc.StartInterval = parseDuration(m[2]); break;
      case 'retries': hc.Retries = parseInt(m[2], 10); break;
      default: throw new InvalidParameterError(`Unknown flag: ${m[1]}`);
    }
  }
  const cm = /^(\S+)\s*(.*)$/s.exec(r);
  if (!cm || cm[1].toUpperCase() !== 'CMD') throw new InvalidParameterError(`Unknown type "${cm?.[1] ?? ''}" in HEALTHCHECK (try CMD)`);
  const json = jsonArgs(cm[2]);
  hc.Test = json ? ['CMD', ...json] : ['CMD-SHELL', cm[2].trim()];
  return hc;
}

/**
 * Applies the change instructions to a copy of `base` and returns it. `opts.args` are variables
 * substitution sees besides the config's Env (a build's ARGs; Env wins, as in Docker).
 */
export function applyChanges(base: ImageRunConfig, changes: string[], opts: { args?: Map<string, string> } = {}): ImageRunConfig {
  const cfg: ImageRunConfig = JSON.parse(JSON.stringify(base ?? {})) as ImageRunConfig;
  let cmdSet = false;
  const shell = (): string[] => (cfg.Shell && cfg.Shell.length ? cfg.Shell : ['/bin/sh', '-c']);
  for (const raw of changes) {
    for (const line of raw.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const m = /^(\S+)\s*(.*)$/s.exec(trimmed)!;
      const instr = m[1].toUpperCase();
      const rest = m[2];
      if (!ALLOWED.has(instr)) throw new InvalidParameterError(`${m[1].toLowerCase()} is not a valid change command`);
      const env = new Map([...(opts.args ?? []), ...envMap(cfg.Env ?? [])]);
      switch (instr) {
        case 'CMD': {
          const json = jsonArgs(rest);
          cfg.Cmd = json ?? [...shell(), rest];
          cmdSet = true;
          break;
        }
        case 'ENTRYPOINT': {
          const json = jsonArgs(rest);
          cfg.Entrypoint = json ?? (rest.trim() === '' ? [...shell()] : [...shell(), rest]);
          if (!cmdSet) cfg.Cmd = null;
          break;
        }
        case 'SHELL': {
          const json = jsonArgs(rest);
          if (!json) throw new InvalidParameterError('SHELL requires the arguments to be in JSON form');
          cfg.Shell = json;
          break;
        }
        case 'ENV': {
          const list = [...(cfg.Env ?? [])];
          for (const [k, v] of parseKeyValues('ENV', rest, env)) {
            const idx = list.findIndex((e) => e.split('=')[0] === k);
            if (idx >= 0) list[idx] = `${k}=${v}`; else list.push(`${k}=${v}`);
            env.set(k, v);
          }
          cfg.Env = list;
          break;
        }
        case 'LABEL': {
          const labels = { ...(cfg.Labels ?? {}) };
          for (const [k, v] of parseKeyValues('LABEL', rest, env)) labels[k] = v;
          cfg.Labels = labels;
          break;
        }
        case 'WORKDIR': {
          const words = splitWords(rest, env);
          if (words.length !== 1) throw new InvalidParameterError('WORKDIR requires exactly one argument');
          cfg.WorkingDir = path.posix.resolve(cfg.WorkingDir || '/', words[0]);
          break;
        }
        case 'USER': {
          const words = splitWords(rest, env);
          if (words.length !== 1) throw new InvalidParameterError('USER requires exactly one argument');
          cfg.User = words[0];
          break;
        }
        case 'STOPSIGNAL': {
          const words = splitWords(rest, env);
          if (words.length !== 1) throw new InvalidParameterError('STOPSIGNAL requires exactly one argument');
          cfg.StopSignal = words[0];
          break;
        }
        case 'EXPOSE': {
          const ports = { ...(cfg.ExposedPorts ?? {}) };
          const words = splitWords(rest, env);
          if (words.length === 0) throw new InvalidParameterError('EXPOSE requires at least one argument');
          for (const w of words) {
            const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
            if (!pm) throw new InvalidParameterError(`invalid containerPort: ${w}`);
            const lo = parseInt(pm[1], 10);
            const hi = pm[2] ? parseInt(pm[2], 10) : lo;
            if (hi < lo || hi > 65535) throw new InvalidParameterError(`invalid port range: ${w}`);
            const proto = (pm[3] ?? 'tcp').toLowerCase();
            for (let p = lo; p <= hi; p++) ports[`${p}/${proto}`] = {};
          }
          cfg.ExposedPorts = ports;
          break;
        }
        case 'VOLUME': {
          const vols = { ...(cfg.Volumes ?? {}) };
          const list = jsonArgs(rest) ?? splitWords(rest, env);
          if (list.length === 0) throw new InvalidParameterError('VOLUME requires at least one argument');
          for (const v of list) {
            if (v.trim() === '') throw new InvalidParameterError('VOLUME specified can not be an empty string');
            vols[v] = {};
          }
          cfg.Volumes = vols;
          break;
        }
        case 'HEALTHCHECK':
          cfg.Healthcheck = parseHealthcheck(rest);
          break;
        case 'ONBUILD': {
          const sub = /^(\S+)/.exec(rest.trim());
          if (!sub) throw new InvalidParameterError('ONBUILD requires at least one argument');
          const up = sub[1].toUpperCase();
          if (up === 'ONBUILD') throw new InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
          if (up === 'FROM' || up === 'MAINTAINER') throw new InvalidParameterError(`${up} isn't allowed as an ONBUILD trigger`);
          cfg.OnBuild = [...(cfg.OnBuild ?? []), up + rest.trim().slice(sub[1].length)];
          break;
        }
      }
    }
  }
  return cfg;
}
