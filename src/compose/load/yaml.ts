// Parse one compose file's YAML into plain data, keeping compose's `!reset` and `!override` tags
// as markers for the merge (13-merge.md).
import * as YAML from 'yaml';
import { fileError } from './errors';

/** `!reset`: the key is dropped from what earlier files set. */
export class Reset {}
/** `!override`: the value replaces what earlier files set, bypassing the merge rules. */
export class Override {
  constructor(readonly value: unknown) {}
}

export type Raw = Record<string, unknown>;

// go-yaml (which compose uses) reads 0755 as octal; YAML 1.2 would read it as 755
const legacyOctal = {
  identify: (v: unknown) => typeof v === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
};

export function parseYaml(text: string, file: string): Raw {
  const doc = YAML.parseDocument(text, { merge: true, uniqueKeys: true, customTags: (tags) => [legacyOctal, ...tags], prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos ? `line ${e.linePos[0].line}: ` : '';
    throw fileError(file, undefined, `yaml: ${line}${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  YAML.visit(doc, {
    Node(_key, node) {
      if (YAML.isNode(node) && node.tag === '!reset') return new YAML.Scalar(new Reset());
      if (YAML.isNode(node) && node.tag === '!override') return new YAML.Scalar(new Override(node.toJS(doc)));
      return undefined;
    },
  });
  const data = doc.toJS({ maxAliasCount: 10000 }) as unknown;
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw fileError(file, undefined, 'the top level must be a mapping');
  return data as Raw;
}

export function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Reset) && !(v instanceof Override);
}
