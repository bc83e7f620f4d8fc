// A small implementation of Go's text/template, enough for docker's --format strings:
// fields and nested fields, method-like fields with arguments ({{.Label "k"}}), variables,
// pipelines, parenthesised pipelines, if/else if/else, range (with $i, $v :=), with,
// break/continue, {{- -}} trimming, comments, and the functions docker adds (json, join,
// split, lower, upper, title, pad, truncate) plus Go's builtins (and, or, not, len, index,
// slice, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery).

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

// ------------------------------------------------------------------ lexer

type TokType =
  | 'text' | 'left' | 'right' | 'field' | 'dot' | 'var' | 'ident' | 'string' | 'number' | 'bool' | 'nil'
  | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'keyword' | 'eof';

interface Token {
  type: TokType;
  value: string;
  pos: number;
  line: number;
  /** no white space before this token (so `.A.B` and `$x.B` chain, `.A .B` do not) */
  adj?: boolean;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

function lex(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  // line numbers (for errors) counted forward from the last token's: tokens come in order, and
  // counting from the start for each was quadratic (most of a first parse of docker's templates)
  let linePos = 0;
  let line = 1;
  const lineAt = (p: number) => {
    if (p < linePos) { linePos = 0; line = 1; }
    for (let k = src.indexOf('\n', linePos); k >= 0 && k < p; k = src.indexOf('\n', k + 1)) line++;
    linePos = p;
    return line;
  };
  const push = (type: TokType, value: string, pos: number) =>
    toks.push({ type, value, pos, line: lineAt(pos), adj: pos > 0 && !/[ \t\r\n]/.test(src[pos - 1]) });
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      push('text', src.slice(i), i);
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    // left trim marker "{{- "
    if (src[j] === '-' && /[ \t\r\n]/.test(src[j + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      j += 1;
    }
    if (text) push('text', text, i);
    // comment
    const rest = src.slice(j).replace(/^[ \t\r\n]*/, '');
    if (rest.startsWith('/*')) {
      const endC = src.indexOf('*/', j);
      if (endC < 0) throw new TemplateError(`template: :${lineAt(open)}: unclosed comment`);
      let k = endC + 2;
      let trimRight = false;
      const m = /^[ \t\r\n]*(-?)\}\}/.exec(src.slice(k));
      if (!m) throw new TemplateError(`template: :${lineAt(open)}: comment ends before closing delimiter`);
      if (m[1] === '-') trimRight = true;
      k += m[0].length;
      i = k;
      if (trimRight) while (i < src.length && /[ \t\r\n]/.test(src[i])) i++;
      continue;
    }
    push('left', '{{', open);
    // inside action
    let trimRight = false;
    for (;;) {
      while (j < src.length && /[ \t\r\n]/.test(src[j])) j++;
      if (j >= src.length) throw new TemplateError(`template: :${lineAt(open)}: unclosed action`);
      const c = src[j];
      if (c === '-' && src.startsWith('}}', j + 1) && /[ \t\r\n]/.test(src[j - 1])) {
        trimRight = true;
        push('right', '}}', j);
        j += 3;
        break;
      }
      if (src.startsWith('}}', j)) {
        push('right', '}}', j);
        j += 2;
        break;
      }
      if (c === '|') { push('pipe', '|', j); j++; continue; }
      if (c === '(') { push('lparen', '(', j); j++; continue; }
      if (c === ')') { push('rparen', ')', j); j++; continue; }
      if (c === ',') { push('comma', ',', j); j++; continue; }
      if (c === ':' && src[j + 1] === '=') { push('declare', ':=', j); j += 2; continue; }
      if (c === '=') { push('assign', '=', j); j++; continue; }
      if (c === '"') {
        let k = j + 1;
        while (k < src.length && src[k] !== '"') {
          if (src[k] === '\\') k++;
          if (src[k] === '\n') throw new TemplateError(`template: :${lineAt(j)}: unterminated quoted string`);
          k++;
        }
        if (k >= src.length) throw new TemplateError(`template: :${lineAt(j)}: unterminated quoted string`);
        push('string', unquote(src.slice(j, k + 1)), j);
        j = k + 1;
        continue;
      }
      if (c === '`') {
        const k = src.indexOf('`', j + 1);
        if (k < 0) throw new TemplateError(`template: :${lineAt(j)}: unterminated raw quoted string`);
        push('string', src.slice(j + 1, k), j);
        j = k + 1;
        continue;
      }
      if (c === "'") {
        const m = /^'(\\.|[^'\\])'/.exec(src.slice(j));
        if (!m) throw new TemplateError(`template: :${lineAt(j)}: unterminated character constant`);
        const ch = unquote('"' + m[1] + '"');
        push('number', String(ch.codePointAt(0)), j);
        j += m[0].length;
        continue;
      }
      if (c === '.' ) {
        const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(j));
        if (m) { push('field', m[0].slice(1), j); j += m[0].length; continue; }
        if (/[0-9]/.test(src[j + 1] ?? '')) { /* number like .5 */ } else { push('dot', '.', j); j++; continue; }
      }
      if (c === '$') {
        const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(j)) as RegExpExecArray;
        push('var', m[0], j);
        j += m[0].length;
        continue;
      }
      const num = /^[+-]?(0[xX][0-9a-fA-F_]+|(\d[\d_]*)?\.?\d+([eE][+-]?\d+)?)/.exec(src.slice(j));
      if (num && /[0-9.+-]/.test(c)) {
        push('number', num[0], j);
        j += num[0].length;
        continue;
      }
      const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(j));
      if (id) {
        const w = id[0];
        if (w === 'true' || w === 'false') push('bool', w, j);
        else if (w === 'nil') push('nil', w, j);
        else if (KEYWORDS.has(w)) push('keyword', w, j);
        else push('ident', w, j);
        j += w.length;
        continue;
      }
      throw new TemplateError(`template: :${lineAt(j)}: unexpected "${c}" in command`);
    }
    i = j;
    if (trimRight) while (i < src.length && /[ \t\r\n]/.test(src[i])) i++;
  }
  toks.push({ type: 'eof', value: '', pos: src.length, line: lineAt(src.length) });
  return toks;
}

function unquote(q: string): string {
  // Go escapes are close to JSON's; \x, \', \a, \v and octal need translating.
  const body = q.slice(1, -1).replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\'/g, "'")
    .replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b')
    .replace(/\\([0-7]{3})/g, (_m, o: string) => '\\u' + parseInt(o, 8).toString(16).padStart(4, '0'));
  try {
    return JSON.parse('"' + body.replace(/\t/g, '\\t') + '"') as string;
  } catch {
    throw new TemplateError(`template: invalid syntax: ${q}`);
  }
}

// ------------------------------------------------------------------ AST

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; list: Node[]; elseList: Node[] | null }
  | { kind: 'range'; pipe: Pipeline; list: Node[]; elseList: Node[] | null }
  | { kind: 'break' }
  | { kind: 'continue' };

interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Command[];
}

interface Command {
  args: Operand[];
}

type Operand =
  | { kind: 'field'; fields: string[] } // .A.B
  | { kind: 'dot' }
  | { kind: 'var'; name: string; fields: string[] }
  | { kind: 'ident'; name: string }
  | { kind: 'literal'; value: unknown }
  | { kind: 'pipe'; pipe: Pipeline; fields: string[] };

class Parser {
  private p = 0;
  constructor(private toks: Token[], private funcs: FuncMap) {}

  private peek(off = 0): Token {
    return this.toks[Math.min(this.p + off, this.toks.length - 1)];
  }
  private next(): Token {
    return this.toks[this.p++];
  }
  private err(msg: string, t = this.peek()): never {
    throw new TemplateError(`template: :${t.line}: ${msg}`);
  }
  private expect(type: TokType, ctx: string): Token {
    const t = this.next();
    if (t.type !== type) this.err(`unexpected ${describe(t)} in ${ctx}`, t);
    return t;
  }

  parse(): Node[] {
    const { list, end } = this.parseList(0);
    if (end !== 'eof') this.err(`unexpected {{${end}}}`);
    return list;
  }

  /** Parse until {{end}}, {{else}} or eof. Returns which terminator stopped it (the terminator is consumed except eof). */
  private parseList(depth: number, inRange = false): { list: Node[]; end: 'end' | 'else' | 'eof' } {
    const list: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'eof') return { list, end: 'eof' };
      if (t.type === 'text') {
        this.next();
        list.push({ kind: 'text', text: t.value });
        continue;
      }
      this.expect('left', 'template');
      const k = this.peek();
      if (k.type === 'keyword') {
        switch (k.value) {
          case 'end':
            this.next();
            this.expect('right', 'end');
            if (depth === 0) this.err('unexpected {{end}}', k);
            return { list, end: 'end' };
          case 'else':
            if (depth === 0) this.err('unexpected {{else}}', k);
            this.next();
            // "else if" / "else with": leave the keyword for the caller
            if (this.peek().type === 'right') this.next();
            return { list, end: 'else' };
          case 'if':
          case 'with':
          case 'range': {
            this.next();
            list.push(this.parseControl(k.value as 'if' | 'with' | 'range', depth, inRange));
            continue;
          }
          case 'break':
          case 'continue':
            if (!inRange) this.err(`{{${k.value}}} outside {{range}}`, k);
            this.next();
            this.expect('right', k.value);
            list.push({ kind: k.value });
            continue;
          default:
            this.err(`{{${k.value}}} is not supported`, k);
        }
      }
      const pipe = this.parsePipeline('command', true);
      this.expect('right', 'command');
      list.push({ kind: 'action', pipe });
    }
  }

  private parseControl(kind: 'if' | 'with' | 'range', depth: number, inRange: boolean): Node {
    const pipe = this.parsePipeline(kind, true, kind === 'range');
    this.expect('right', kind);
    const body = this.parseList(depth + 1, inRange || kind === 'range');
    let elseList: Node[] | null = null;
    if (body.end === 'eof') this.err(`unexpected EOF`);
    if (body.end === 'else') {
      const t = this.peek();
      if ((kind === 'if' && t.type === 'keyword' && t.value === 'if') || (kind === 'with' && t.type === 'keyword' && t.value === 'with')) {
        // {{else if ...}} is {{else}}{{if ...}}...{{end}} sharing the outer end
        this.next();
        elseList = [this.parseControl(kind, depth, inRange)];
      } else {
        const e = this.parseList(depth + 1, inRange);
        if (e.end !== 'end') this.err(e.end === 'else' ? 'expected end; found {{else}}' : 'unexpected EOF');
        elseList = e.list;
      }
    }
    return { kind, pipe, list: body.list, elseList } as Node;
  }

  private parsePipeline(ctx: string, allowDecl: boolean, allowTwoVars = false): Pipeline {
    const decl: string[] = [];
    let assign = false;
    if (allowDecl && this.peek().type === 'var') {
      // lookahead for "$x :=" or "$i, $v :="
      const t1 = this.peek(1);
      if (t1.type === 'declare' || t1.type === 'assign') {
        decl.push(this.next().value);
        assign = this.next().type === 'assign';
      } else if (allowTwoVars && t1.type === 'comma' && this.peek(2).type === 'var' && this.peek(3).type === 'declare') {
        decl.push(this.next().value);
        this.next();
        decl.push(this.next().value);
        this.next();
      }
    }
    const cmds: Command[] = [];
    for (;;) {
      const args: Operand[] = [];
      for (;;) {
        const t = this.peek();
        if (t.type === 'right' || t.type === 'pipe' || t.type === 'rparen' || t.type === 'eof') break;
        args.push(this.parseOperand());
      }
      if (!args.length) this.err(`missing value for ${ctx}`);
      cmds.push({ args });
      if (this.peek().type === 'pipe') {
        this.next();
        continue;
      }
      break;
    }
    return { decl, assign, cmds };
  }

  private parseOperand(): Operand {
    const t = this.next();
    switch (t.type) {
      case 'field': {
        const fields = [t.value];
        while (this.peek().type === 'field' && this.peek().adj) fields.push(this.next().value);
        return { kind: 'field', fields };
      }
      case 'dot':
        return { kind: 'dot' };
      case 'var': {
        const fields: string[] = [];
        while (this.peek().type === 'field' && this.peek().adj) fields.push(this.next().value);
        return { kind: 'var', name: t.value, fields };
      }
      case 'ident':
        if (!(t.value in this.funcs)) this.err(`function "${t.value}" not defined`, t);
        return { kind: 'ident', name: t.value };
      case 'string':
        return { kind: 'literal', value: t.value };
      case 'number':
        return { kind: 'literal', value: parseNumber(t.value) };
      case 'bool':
        return { kind: 'literal', value: t.value === 'true' };
      case 'nil':
        return { kind: 'literal', value: null };
      case 'lparen': {
        const pipe = this.parsePipeline('parenthesized pipeline', true);
        this.expect('rparen', 'parenthesized pipeline');
        const fields: string[] = [];
        while (this.peek().type === 'field' && this.peek().adj) fields.push(this.next().value);
        return { kind: 'pipe', pipe, fields };
      }
      default:
        this.err(`unexpected ${describe(t)} in operand`, t);
    }
  }
}

function describe(t: Token): string {
  if (t.type === 'right') return '"}}"';
  if (t.type === 'eof') return 'EOF';
  return `"${t.value}"`;
}

function parseNumber(s: string): number {
  const n = Number(s.replace(/_/g, ''));
  if (Number.isNaN(n)) throw new TemplateError(`template: illegal number syntax: ${s}`);
  return n;
}

// ------------------------------------------------------------------ evaluation

export type TemplateFunc = (...args: unknown[]) => unknown;
export type FuncMap = Record<string, TemplateFunc>;

class BreakSignal {}
class ContinueSignal {}

/** A value printed as Go's fmt would print it with %v. */
export function formatValue(v: unknown, top = true): string {
  if (v === undefined) return '<no value>';
  if (v === null) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return '[' + v.map((x) => formatValue(x, false)).join(' ') + ']';
  if (typeof v === 'function') return formatValue((v as () => unknown)(), top);
  if (typeof v === 'object') {
    const s = (v as { toString?: () => string }).toString;
    if (s && s !== Object.prototype.toString) return String(v);
    const keys = Object.keys(v as object).sort();
    return 'map[' + keys.map((k) => `${k}:${formatValue((v as Record<string, unknown>)[k], false)}`).join(' ') + ']';
  }
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  return formatG(n, -1);
}

export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

interface Scope {
  vars: Array<[string, unknown]>;
}

class Exec {
  constructor(private funcs: FuncMap, private out: string[]) {}

  run(list: Node[], dot: unknown, scope: Scope): void {
    for (const n of list) this.node(n, dot, scope);
  }

  private node(n: Node, dot: unknown, scope: Scope): void {
    switch (n.kind) {
      case 'text':
        this.out.push(n.text);
        return;
      case 'action': {
        const v = this.pipeline(n.pipe, dot, scope);
        if (n.pipe.decl.length === 0) this.out.push(formatValue(v));
        return;
      }
      case 'if': {
        const mark = scope.vars.length;
        const v = this.pipeline(n.pipe, dot, scope);
        if (truthy(v)) this.run(n.list, dot, scope);
        else if (n.elseList) this.run(n.elseList, dot, scope);
        scope.vars.length = mark;
        return;
      }
      case 'with': {
        const mark = scope.vars.length;
        const v = this.pipeline(n.pipe, dot, scope);
        if (truthy(v)) this.run(n.list, v, scope);
        else if (n.elseList) this.run(n.elseList, dot, scope);
        scope.vars.length = mark;
        return;
      }
      case 'range':
        this.range(n, dot, scope);
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private range(n: Extract<Node, { kind: 'range' }>, dot: unknown, scope: Scope): void {
    const mark = scope.vars.length;
    const pipe = { ...n.pipe, decl: [] };
    const v = this.pipeline(pipe, dot, scope);
    let items: Array<[unknown, unknown]> = [];
    if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
    else if (typeof v === 'number') items = Array.from({ length: Math.max(0, Math.floor(v)) }, (_x, i) => [i, i]);
    else if (v && typeof v === 'object') items = Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]);
    else if (v !== null && v !== undefined) throw new TemplateError(`range can't iterate over ${formatValue(v)}`);
    if (!items.length) {
      if (n.elseList) this.run(n.elseList, dot, scope);
      return;
    }
    for (const [k, x] of items) {
      const inner = scope.vars.length;
      if (n.pipe.decl.length === 1) scope.vars.push([n.pipe.decl[0], x]);
      else if (n.pipe.decl.length === 2) {
        scope.vars.push([n.pipe.decl[0], k]);
        scope.vars.push([n.pipe.decl[1], x]);
      }
      try {
        this.run(n.list, x, scope);
      } catch (e) {
        if (e instanceof BreakSignal) { scope.vars.length = inner; break; }
        if (!(e instanceof ContinueSignal)) throw e;
      }
      scope.vars.length = inner;
    }
    scope.vars.length = mark;
  }

  private pipeline(p: Pipeline, dot: unknown, scope: Scope): unknown {
    let v: unknown = undefined;
    let first = true;
    for (const c of p.cmds) {
      v = this.command(c, dot, scope, first ? NO_FINAL : v);
      first = false;
    }
    if (p.decl.length) {
      if (p.assign) {
        const name = p.decl[0];
        for (let i = scope.vars.length - 1; i >= 0; i--) {
          if (scope.vars[i][0] === name) { scope.vars[i][1] = v; return v; }
        }
        throw new TemplateError(`undefined variable: ${name}`);
      }
      scope.vars.push([p.decl[0], v]);
    }
    return v;
  }

  private command(c: Command, dot: unknown, scope: Scope, final: unknown): unknown {
    const [head, ...rest] = c.args;
    const hasFinal = final !== NO_FINAL;
    if (head.kind === 'ident') {
      const fn = this.funcs[head.name];
      const args = rest.map((a) => this.operand(a, dot, scope));
      if (hasFinal) args.push(final);
      return fn(...args);
    }
    if (head.kind === 'field' || head.kind === 'var' || head.kind === 'pipe') {
      const args = rest.map((a) => this.operand(a, dot, scope));
      if (hasFinal) args.push(final);
      return this.operand(head, dot, scope, args);
    }
    if (rest.length || hasFinal) throw new TemplateError(`can't give argument to non-function ${describeOperand(head)}`);
    return this.operand(head, dot, scope);
  }

  /** Evaluate an operand; `args` are passed to the last field when it is a method. */
  private operand(o: Operand, dot: unknown, scope: Scope, args?: unknown[]): unknown {
    switch (o.kind) {
      case 'dot':
        return dot;
      case 'literal':
        return o.value;
      case 'ident':
        return this.funcs[o.name]();
      case 'field':
        return this.fields(dot, o.fields, args);
      case 'var': {
        let val: unknown;
        let found = false;
        if (o.name === '$') {
          val = scope.vars[0]?.[1];
          found = true;
        }
        for (let i = scope.vars.length - 1; i >= 0 && !found; i--) {
          if (scope.vars[i][0] === o.name) { val = scope.vars[i][1]; found = true; }
        }
        if (!found) throw new TemplateError(`undefined variable "${o.name}"`);
        return o.fields.length ? this.fields(val, o.fields, args) : val;
      }
      case 'pipe': {
        const v = this.pipeline(o.pipe, dot, scope);
        return o.fields.length ? this.fields(v, o.fields, args) : v;
      }
    }
  }

  private fields(recv: unknown, names: string[], args?: unknown[]): unknown {
    let v = recv;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const last = i === names.length - 1;
      if (v === null || v === undefined) {
        if (v === null) throw new TemplateError(`nil pointer evaluating interface {}.${name}`);
        return undefined;
      }
      if (typeof v !== 'object') throw new TemplateError(`can't evaluate field ${name} in type ${typeName(v)}`);
      const obj = v as Record<string, unknown>;
      const f = obj[name];
      if (typeof f === 'function') {
        v = (f as TemplateFunc).apply(obj, last && args ? args : []);
      } else {
        if (last && args && args.length) throw new TemplateError(`${name} is not a method but has arguments`);
        v = Object.prototype.hasOwnProperty.call(obj, name) || name in obj ? f : undefined;
      }
    }
    return v;
  }
}

function typeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function describeOperand(o: Operand): string {
  if (o.kind === 'literal') return formatValue(o.value);
  if (o.kind === 'dot') return '.';
  return o.kind;
}

const NO_FINAL = Symbol('no-final');

// ------------------------------------------------------------------ functions

function toStr(v: unknown): string {
  return typeof v === 'string' ? v : formatValue(v);
}

function goSprint(args: unknown[], ln: boolean): string {
  let s = '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (i > 0 && (ln || (typeof a !== 'string' && typeof args[i - 1] !== 'string'))) s += ' ';
    s += formatValue(a, false);
  }
  return ln ? s + '\n' : s;
}

/** Go's fmt.Sprintf for the common verbs. */
export function sprintf(format: string, ...args: unknown[]): string {
  let ai = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g, (m, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (width === '*') width = String(args[ai++]);
    if (prec === '*') prec = String(args[ai++]);
    if (ai >= args.length) return `%!${verb}(MISSING)`;
    const a = args[ai++];
    let s: string;
    switch (verb) {
      case 'd': s = String(Math.trunc(Number(a))); break;
      case 'f': case 'F': s = Number(a).toFixed(prec !== undefined ? Number(prec) : 6); break;
      case 'e': s = Number(a).toExponential(prec !== undefined ? Number(prec) : 6).replace(/e([+-])(\d)$/, 'e$10$2'); break;
      case 'g': s = formatG(Number(a), prec !== undefined ? Number(prec) : -1); break;
      case 'x': s = typeof a === 'number' ? a.toString(16) : Buffer.from(toStr(a)).toString('hex'); break;
      case 'X': s = (typeof a === 'number' ? a.toString(16) : Buffer.from(toStr(a)).toString('hex')).toUpperCase(); break;
      case 'q': s = JSON.stringify(toStr(a)); break;
      case 't': s = String(!!a); break;
      case 's': case 'v': default:
        s = formatValue(a, false);
        if (verb === 's' && prec !== undefined) s = [...s].slice(0, Number(prec)).join('');
    }
    if (flags.includes('+') && (verb === 'd' || verb === 'f') && Number(a) >= 0) s = '+' + s;
    if (width !== undefined) {
      const w = Number(width);
      const len = [...s].length;
      if (len < w) {
        if (flags.includes('-')) s = s + ' '.repeat(w - len);
        else if (flags.includes('0') && /[dfeg]/.test(verb)) s = (s.startsWith('-') ? '-' + '0'.repeat(w - len) + s.slice(1) : '0'.repeat(w - len) + s);
        else s = ' '.repeat(w - len) + s;
      }
    }
    void m;
    return s;
  });
}

/** Go's strconv.FormatFloat(v, 'g', prec, 64); prec -1 = shortest. */
export function formatG(v: number, prec: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  if (v === 0) return '0';
  let s: string;
  if (prec < 0) {
    s = String(v);
    const exp = Math.floor(Math.log10(Math.abs(v)));
    if (exp < -4 || exp >= 21) s = v.toExponential();
  } else {
    const p = prec === 0 ? 1 : prec;
    s = v.toPrecision(p);
    const exp = Number(v.toExponential(p - 1).split('e')[1]);
    if (exp < -4 || exp >= p) s = v.toExponential(p - 1);
  }
  // strip trailing zeros of the mantissa
  const [mant, ex] = s.split('e');
  let m2 = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  if (ex !== undefined) {
    const en = Number(ex);
    m2 += 'e' + (en < 0 ? '-' : '+') + String(Math.abs(en)).padStart(2, '0');
  }
  return m2;
}

function compareValues(a: unknown, b: unknown, op: string): boolean {
  if (typeof a === 'number' && typeof b === 'number') return cmpOp(a, b, op);
  if (typeof a === 'string' && typeof b === 'string') return cmpOp(a, b, op);
  if (op === 'eq') return a === b;
  if (op === 'ne') return a !== b;
  throw new TemplateError(`incompatible types for comparison`);
}

function cmpOp<T extends number | string>(a: T, b: T, op: string): boolean {
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'gt': return a > b;
    default: return a >= b;
  }
}

function goLen(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  if (v === null || v === undefined) return 0;
  throw new TemplateError(`len of type ${typeName(v)}`);
}

function goIndex(v: unknown, ...keys: unknown[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (cur === null || cur === undefined) {
      if (typeof k === 'number') throw new TemplateError(`index of untyped nil`);
      return undefined;
    }
    if (Array.isArray(cur) || typeof cur === 'string') {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= cur.length) throw new TemplateError(`error calling index: index out of range: ${String(k)}`);
      cur = typeof cur === 'string' ? Buffer.from(cur)[i] : cur[i];
    } else if (typeof cur === 'object') {
      const o = cur as Record<string, unknown>;
      const key = String(k);
      // missing keys of string maps (labels) give the zero value ""
      cur = Object.prototype.hasOwnProperty.call(o, key) ? o[key] : '';
    } else {
      throw new TemplateError(`can't index item of type ${typeName(cur)}`);
    }
  }
  return cur;
}

/** The functions docker's templates have (templates.basicFunctions plus Go's builtins). */
export const baseFuncs: FuncMap = {
  json: (v) => (v === undefined ? 'null' : JSON.stringify(v) ?? 'null'),
  split: (s, sep) => toStr(s).split(toStr(sep)),
  join: (a, sep) => {
    if (a === null || a === undefined) return '';
    if (!Array.isArray(a)) throw new TemplateError(`wrong type for value; expected []string; got ${typeName(a)}`);
    return a.map((x) => toStr(x)).join(toStr(sep));
  },
  title: (s) => toStr(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()),
  lower: (s) => toStr(s).toLowerCase(),
  upper: (s) => toStr(s).toUpperCase(),
  pad: (s, before, after) => ' '.repeat(Number(before)) + toStr(s) + ' '.repeat(Number(after)),
  truncate: (s, n) => {
    const r = [...toStr(s)];
    return r.length > Number(n) ? r.slice(0, Number(n)).join('') : toStr(s);
  },
  println: (...a) => goSprint(a, true),
  print: (...a) => goSprint(a, false),
  printf: (f, ...a) => sprintf(toStr(f), ...a),
  len: (v) => goLen(v),
  index: (v, ...k) => goIndex(v, ...k),
  slice: (v, ...idx) => {
    const i = idx.length > 0 ? Number(idx[0]) : 0;
    if (typeof v === 'string') return v.slice(i, idx.length > 1 ? Number(idx[1]) : undefined);
    if (Array.isArray(v)) return v.slice(i, idx.length > 1 ? Number(idx[1]) : undefined);
    throw new TemplateError(`can't slice item of type ${typeName(v)}`);
  },
  not: (v) => !truthy(v),
  and: (...a) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  eq: (a, ...b) => b.some((x) => compareValues(a, x, 'eq')),
  ne: (a, b) => compareValues(a, b, 'ne'),
  lt: (a, b) => compareValues(a, b, 'lt'),
  le: (a, b) => compareValues(a, b, 'le'),
  gt: (a, b) => compareValues(a, b, 'gt'),
  ge: (a, b) => compareValues(a, b, 'ge'),
  html: (s) => toStr(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  js: (s) => toStr(s).replace(/[\\'"<>&=]/g, (c) => (c === '\\' ? '\\\\' : c === "'" ? "\\'" : c === '"' ? '\\"' : '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'))),
  urlquery: (...a) => encodeURIComponent(a.map((x) => toStr(x)).join('')).replace(/%20/g, '+'),
  call: (f, ...a) => (f as TemplateFunc)(...a),
};

/** Functions used when rendering the header row of a table: they return their first argument. */
export const headerFuncs: FuncMap = {
  ...baseFuncs,
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  pad: (v) => v,
  truncate: (v) => v,
};

export class Template {
  private readonly tree: Node[];
  constructor(readonly source: string, private readonly funcs: FuncMap = baseFuncs) {
    this.tree = new Parser(lex(source), funcs).parse();
  }

  execute(data: unknown, funcs?: FuncMap): string {
    const out: string[] = [];
    try {
      new Exec(funcs ?? this.funcs, out).run(this.tree, data, { vars: [['$', data]] });
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      if (e instanceof BreakSignal || e instanceof ContinueSignal) throw new TemplateError('break/continue outside range');
      throw new TemplateError(`template: :1: executing "" : ${(e as Error).message}`);
    }
    return out.join('');
  }
}

/** Parse and execute in one step. */
export function renderTemplate(src: string, data: unknown, funcs: FuncMap = baseFuncs): string {
  return new Template(src, funcs).execute(data);
}
