// The Dockerfile grammar (Docker's classic parser): parser directives at the top (`syntax`,
// `escape`, `check`), comment lines, line continuations with the escape character, heredocs
// (`<<EOF`, `<<-EOF`, quoted delimiters) for RUN/COPY/ADD, and per instruction its `--flags`
// and either a JSON array (exec form) or the rest of the line (shell form). Written here rather
// than taken from dockerfile-ast: that package is an editor's AST (with vscode-languageserver
// types) for a grammar that fits in this file.
import { InvalidParameterError } from '../../lib/errors';
import { jsonArgs } from '../images/changes';

export interface Heredoc {
  name: string;
  content: string;
  /** The delimiter was quoted: no variable expansion in the content. */
  quoted: boolean;
}

export interface Instruction {
  /** Upper case: `RUN`, `COPY`... */
  cmd: string;
  /** `--name=value` flags before the arguments (`--mount` may repeat). */
  flags: { name: string; value: string | null }[];
  /** The arguments as written, after flags (continuations joined). */
  rest: string;
  /** The exec form's array, when `rest` is a JSON array of strings. */
  json?: string[];
  heredocs: Heredoc[];
  /** The instruction as the build output shows it (`RUN echo hi`). */
  original: string;
  line: number;
}

export interface Dockerfile {
  directives: Record<string, string>;
  escape: string;
  instructions: Instruction[];
}

/** The BuildKit frontends whose syntax this parser implements (the `# syntax=` line). */
const KNOWN_SYNTAX = /^(docker\.io\/)?(docker\/dockerfile|dockerfile)(:(1|1\.\d+|1\.\d+\.\d+|labs|1-labs))?(@sha256:[a-f0-9]{64})?$/;

const HEREDOC_CMDS = new Set(['RUN', 'COPY', 'ADD']);
const FLAG_CMDS = new Set(['FROM', 'RUN', 'COPY', 'ADD']);
export const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'ENV', 'ARG', 'LABEL', 'EXPOSE', 'USER', 'WORKDIR', 'COPY', 'ADD',
  'VOLUME', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'MAINTAINER']);

function parseDirectives(lines: string[]): { directives: Record<string, string>; next: number } {
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i]);
    if (!m) break;
    const key = m[1].toLowerCase();
    if (!['syntax', 'escape', 'check'].includes(key)) break;
    if (key in directives) throw new InvalidParameterError(`only one ${key} parser directive can be used`);
    directives[key] = m[2];
  }
  return { directives, next: i };
}

/** Splits the leading `--flag[=value]` words off. */
function takeFlags(s: string): { flags: Instruction['flags']; rest: string } {
  const flags: Instruction['flags'] = [];
  let rest = s;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("[^"]*"|\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    let v = m[2] ?? null;
    if (v && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    flags.push({ name: m[1], value: v });
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const { directives, next } = parseDirectives(lines);
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') throw new InvalidParameterError(`invalid escape token '${escape}' does not match ` + '[\\\\`]');
  if (directives.syntax !== undefined && !KNOWN_SYNTAX.test(directives.syntax)) {
    throw new InvalidParameterError(`berth builds with its own Dockerfile frontend (docker/dockerfile:1 syntax); the frontend ${directives.syntax} is not supported`);
  }
  const instructions: Instruction[] = [];
  let i = next;
  const isComment = (l: string) => /^\s*#/.test(l);
  const continues = (l: string): boolean => {
    const t = l.replace(/\s+$/, '');
    return t.endsWith(escape) && !t.endsWith(escape + escape);
  };
  while (i < lines.length) {
    const startLine = i + 1;
    const first = lines[i];
    if (first.trim() === '' || isComment(first)) { i++; continue; }
    // Join continuation lines; comment lines and empty lines inside are dropped (as Docker).
    let logical = '';
    let cur = first;
    i++;
    for (;;) {
      if (continues(cur)) {
        const t = cur.replace(/\s+$/, '');
        logical += t.slice(0, -1);
        while (i < lines.length && (isComment(lines[i]) || lines[i].trim() === '')) i++;
        if (i >= lines.length) break;
        cur = lines[i++];
        continue;
      }
      logical += cur;
      break;
    }
    logical = logical.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(logical);
    if (!m) continue;
    const cmd = m[1].toUpperCase();
    if (!KNOWN.has(cmd)) throw new InvalidParameterError(`dockerfile parse error on line ${startLine}: unknown instruction: ${m[1]}`);
    let body = m[2];
    let flags: Instruction['flags'] = [];
    if (FLAG_CMDS.has(cmd)) ({ flags, rest: body } = takeFlags(body));
    const heredocs: Heredoc[] = [];
    if (HEREDOC_CMDS.has(cmd) && !jsonArgs(body)) {
      const re = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
      let hm: RegExpExecArray | null;
      while ((hm = re.exec(body))) {
        const strip = hm[1] === '-';
        const name = hm[3];
        const content: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = lines[i++];
          const cmp = strip ? l.replace(/^\t+/, '') : l;
          if (cmp === name) { closed = true; break; }
          content.push(strip ? l.replace(/^\t+/, '') : l);
        }
        if (!closed) throw new InvalidParameterError(`dockerfile parse error on line ${startLine}: unterminated heredoc ${name}`);
        heredocs.push({ name, content: content.join('\n') + '\n', quoted: hm[2] !== '' });
      }
    }
    const json = jsonArgs(body);
    instructions.push({
      cmd, flags, rest: body.trim(), ...(json ? { json } : {}), heredocs,
      original: `${cmd} ${logical.slice(m[1].length).trim()}`.trim(), line: startLine,
    });
  }
  return { directives, escape, instructions };
}

/** The value of flag `name` (the last one given), undefined when absent. */
export function flagValue(ins: Instruction, name: string): string | undefined {
  const f = ins.flags.filter((x) => x.name === name);
  if (!f.length) return undefined;
  return f[f.length - 1].value ?? 'true';
}

/** Refuses flags the instruction does not take. */
export function checkFlags(ins: Instruction, allowed: string[]): void {
  for (const f of ins.flags) {
    if (!allowed.includes(f.name)) throw new InvalidParameterError(`dockerfile parse error on line ${ins.line}: unknown flag: --${f.name}`);
  }
}
