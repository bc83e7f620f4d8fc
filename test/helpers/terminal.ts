// Real terminals for CLI tests: tmux on a private socket (never the user's server), one
// session per terminal, driven by send-keys and read by capture-pane.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestDaemon } from './daemon';

export const hasTmux = (() => {
  try { execFileSync('tmux', ['-V'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;

/** A private tmux server for one test file; close() kills its sessions and the server. */
export class TmuxServer {
  readonly sock: string;
  readonly sessions = new Set<string>();

  constructor(tag: string) {
    this.sock = path.join(os.tmpdir(), `berth-${tag}-${process.pid}.sock`);
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.sock, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * One idle session for the whole file: without it the tmux server exits with the last test's
   * session, and a new-session that races that exit fails ("server exited unexpectedly").
   */
  keepAlive(): void {
    this.tmux('new-session', '-d', '-s', `keep-${process.pid}`, 'sleep 86400');
  }

  close(): void {
    for (const s of [...this.sessions]) { try { this.tmux('kill-session', '-t', s); } catch { /* gone */ } }
    try { this.tmux('kill-server'); } catch { /* no server */ }
    fs.rmSync(this.sock, { force: true });
  }
}

/** A tmux session running `argv` (with the daemon's environment) in a width x height terminal. */
export class Term {
  readonly name: string;
  private readonly statusFile: string;
  private readonly tmux: (...args: string[]) => string;
  constructor(private readonly server: TmuxServer, private readonly d: () => TestDaemon, argv: string[], readonly width = 100, readonly height = 30) {
    this.name = `t${process.pid}-${++seq}`;
    const env = d().env;
    this.tmux = (...args: string[]) => server.tmux(...args);
    const vars = ['DOCKER_HOST', 'DOCKER_CONFIG', 'BERTH_HOST', 'BERTH_CLI_SPARE', 'BERTH_CLI_SPARE_DIR'].map((k) => `${k}=${shq(env[k] ?? '')}`).join(' ');
    // The outer shell prints the command's exit status (tmux's pane_dead_status is not reliable:
    // 3.3a sometimes marks a pane dead at EOF on the pty and never records the status). The CLI
    // puts the terminal in raw mode, so Ctrl-C reaches the container as a byte, not this shell.
    // It writes the status to a file too: what the pane's last process writes just before it
    // exits is sometimes not on the screen ("read escape sequence" shown, the status line not).
    this.statusFile = path.join(os.tmpdir(), `berth-term-${this.name}.status`);
    this.tmux('new-session', '-d', '-s', this.name, '-x', String(width), '-y', String(height),
      `env ${vars} PATH=${shq(process.env.PATH ?? '/usr/bin:/bin')} ${argv.map(shq).join(' ')}; s=$?; echo $s > ${shq(this.statusFile)}; echo "[exit-status:$s]"`);
    server.sessions.add(this.name);
    // Keep the pane after the command exits, to read what it printed.
    this.tmux('set-option', '-t', this.name, 'remain-on-exit', 'on');
  }

  /** The pane's text (with scrollback), wrapped lines joined. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', this.name);
  }

  /** Types `text` literally, then Enter. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
    this.tmux('send-keys', '-t', this.name, 'Enter');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      const m = s.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in pane ${this.name}:\n${s}\n--- berthd stderr (tail):\n${this.d().stderr.slice(-2000)}`);
      await sleep(100);
    }
  }

  /**
   * Runs `cmd` in the shell on the other side and returns what it printed: output is fenced by
   * markers computed by the shell ($((...))), so the echo of the typed line never matches.
   */
  async run(cmd: string, timeoutMs = 15_000): Promise<string> {
    const n = ++seq;
    this.type(`echo "<<$((${n}*1000+1))"; ${cmd}; echo ">>$((${n}*1000+2))"`);
    const m = await this.waitFor(new RegExp(`<<${n * 1000 + 1}\\r?\\n([\\s\\S]*?)>>${n * 1000 + 2}`), timeoutMs);
    return m[1].replace(/\r/g, '');
  }

  /**
   * The TTY's size as `stty size` reports it, asked again until it is `expected` or 10 s pass:
   * a size that a client sends by /resize (after SIGWINCH, attach or start) lands asynchronously.
   */
  async sizeSettles(expected: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    let size = '';
    while ((size = await this.run('stty size')) !== expected && Date.now() < deadline) await sleep(200);
    return size;
  }

  /** Waits for the pane's command to exit; returns its exit status (as `$?` saw it). */
  async exitStatus(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = fs.existsSync(this.statusFile) ? fs.readFileSync(this.statusFile, 'utf8') : '';
      if (/^\d+\n$/.test(text)) {
        // what it printed before is on the screen once the status line is (if that one shows)
        await this.waitFor(/\[exit-status:\d+\]/, 2000).catch(() => undefined);
        return Number(text);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the exit of pane ${this.name}:\n${this.screen()}\n--- berthd stderr (tail):\n${this.d().stderr.slice(-2000)}`);
      await sleep(100);
    }
  }

  /**
   * Waits until the CLI has put the terminal in raw mode (-icanon): keys typed earlier would be
   * echoed by the pty and held until Enter.
   */
  async waitRaw(timeoutMs = 15_000): Promise<void> {
    const pts = this.tmux('display-message', '-p', '-t', this.name, '#{pane_tty}').trim();
    const deadline = Date.now() + timeoutMs;
    while (!/(^|\s)-icanon(\s|$)/.test(execFileSync('stty', ['-F', pts, '-a'], { encoding: 'utf8' }))) {
      if (Date.now() > deadline) throw new Error(`${pts} never went raw:\n${this.screen()}`);
      await sleep(50);
    }
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', this.name, '-x', String(width), '-y', String(height));
  }

  kill(): void {
    try { this.tmux('kill-session', '-t', this.name); } catch { /* gone */ }
    fs.rmSync(this.statusFile, { force: true });
    this.server.sessions.delete(this.name);
  }
}

