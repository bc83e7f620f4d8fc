// Shared CLI runtime: the lazily created client, output streams, status errors and helpers.
import { Command } from 'commander';
import type { Client } from '../client/client';
import { ApiError, ConnectionError, StreamError } from '../client/errors';
import { getTimestamp } from './format/units';

export const PROG = 'berth';

/** An error that sets the exit status; `message` (if any) is printed on stderr as is. */
export class StatusError extends Error {
  constructor(readonly status: number, message = '') {
    super(message);
    this.name = 'StatusError';
  }
}

export interface GlobalOptions {
  host?: string;
  debug?: boolean;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  /** --config: the directory of the Docker config file */
  config?: string;
}

export class Cli {
  private _client: Client | undefined;
  out: NodeJS.WritableStream = process.stdout;
  err: NodeJS.WritableStream = process.stderr;
  global: GlobalOptions = {};

  get client(): Client {
    if (!this._client) {
      const env = { ...process.env };
      if (this.global.tlsverify) env.DOCKER_TLS_VERIFY = '1';
      // required here, not at the top: commands that never reach the daemon (help, usage errors) skip it
      const { Client: ClientClass } = require('../client/client') as typeof import('../client/client');
      this._client = new ClientClass({ host: this.global.host, env, tls: this.global.tls || this.global.tlsverify });
    }
    return this._client;
  }

  /** For tests: inject a client. */
  set client(c: Client) {
    this._client = c;
  }

  close(): void {
    this._client?.close();
  }

  print(s: string): void {
    this.out.write(s);
  }

  println(s = ''): void {
    this.out.write(s + '\n');
  }

  eprintln(s = ''): void {
    this.err.write(s + '\n');
  }
}

/** The text docker prints for an error. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.display();
  if (e instanceof ConnectionError) return e.message;
  if (e instanceof StreamError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** `"berth rm" requires at least 1 argument.` plus the usage block, exit 1. */
export function argsError(cmd: Command, requirement: string): StatusError {
  const path = commandPath(cmd);
  return new StatusError(1, `"${path}" requires ${requirement}.\nSee '${path} --help'.\n\nUsage:  ${path} ${cmd.usage()}\n\n${cmd.description()}`);
}

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function requireArgs(cmd: Command, args: unknown[], min: number, max = Infinity): void {
  if (min === max && args.length !== min) throw argsError(cmd, `exactly ${min} argument${min === 1 ? '' : 's'}`);
  if (args.length < min) throw argsError(cmd, `at least ${min} argument${min === 1 ? '' : 's'}`);
  if (args.length > max) throw argsError(cmd, max === 0 ? 'no arguments' : `at most ${max} argument${max === 1 ? '' : 's'}`);
}

export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export function parseIntFlag(flag: string) {
  return (v: string): number => {
    if (!/^[+-]?\d+$/.test(v.trim())) throw new StatusError(125, `invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return parseInt(v, 10);
  };
}

/** Parse "key=value" filter flags into the API's filter map. */
export function parseFilters(list: string[] | undefined): Record<string, string[]> {
  const f: Record<string, string[]> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new StatusError(125, `invalid argument "${item}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const k = item.slice(0, i).trim().toLowerCase();
    const v = item.slice(i + 1);
    (f[k] ??= []).push(v);
  }
  return f;
}

/** Run `fn` for each argument in parallel, print results in argument order, collect errors like docker. */
export async function forEachArg(cli: Cli, args: string[], fn: (a: string) => Promise<string | void>, opts: { sequential?: boolean; failure?: string } = {}): Promise<void> {
  const errors: string[] = [];
  const run = async (a: string): Promise<{ ok: boolean; text?: string }> => {
    try {
      const r = await fn(a);
      return { ok: true, text: r === undefined ? a : r };
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
      return { ok: false, text: errorText(e) };
    }
  };
  const results: Array<{ ok: boolean; text?: string }> = [];
  const report = (r: { ok: boolean; text?: string }) => {
    results.push(r);
    if (r.ok && r.text) cli.println(r.text);
    else if (!r.ok) errors.push(r.text ?? '');
  };
  if (opts.sequential) {
    for (const a of args) report(await run(a));
  } else {
    const promises = args.map(run);
    for (const p of promises) report(await p);
  }
  if (errors.length) {
    const msg = errors.join('\n') + (opts.failure ? `\nError: ${opts.failure}: ${args.filter((_a, i) => !results[i].ok).join(', ')}` : '');
    throw new StatusError(1, msg);
  }
}

/** `--since` / `--until` as the API takes them (logs, events, compose logs); a bad value is exit 1. */
export function sinceUntil(o: { since?: string; until?: string }): { since?: string; until?: string } {
  try {
    return { since: o.since ? getTimestamp(o.since) : undefined, until: o.until ? getTimestamp(o.until) : undefined };
  } catch (e) {
    throw new StatusError(1, (e as Error).message);
  }
}
