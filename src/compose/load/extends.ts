// `extends`: a service built on another one, from the same file or another (recursively);
// the base is merged under the service with the merge rules. Cycles are refused.
import * as path from 'node:path';
import { str } from './cast';
import { fileError } from './errors';
import { mergeService } from './merge';
import { isMapping, Raw } from './yaml';

/** Loads another file's canonical document (paths relative to its own directory), for `extends.file`. */
export type DocumentLoader = (file: string) => Raw;

export function applyExtends(doc: Raw, file: string, load: DocumentLoader): Raw {
  if (!isMapping(doc.services)) return doc;
  const docs = new Map<string, Raw>([[path.resolve(file), doc]]);
  const documentOf = (f: string): Raw => {
    const key = path.resolve(f);
    if (!docs.has(key)) docs.set(key, load(key));
    return docs.get(key)!;
  };
  const resolve = (name: string, f: string, chain: string[]): Raw => {
    const d = documentOf(f);
    const services = (isMapping(d.services) ? d.services : {}) as Raw;
    const s = services[name];
    const here = `${path.resolve(f)}#${name}`;
    if (!isMapping(s)) {
      const [fromFile, fromService] = chain[chain.length - 1].split('#');
      throw fileError(fromFile, `services.${fromService}.extends`, `cannot extend service "${name}": no such service in ${f}`);
    }
    if (!isMapping(s.extends)) return s;
    if (chain.includes(here)) {
      const names = [...chain.slice(chain.indexOf(here)), here].map((c) => c.split('#')[1]);
      throw fileError(f, `services.${name}.extends`, `extends cycle: ${names.join(' -> ')}`);
    }
    const baseFile = s.extends.file ? str(s.extends.file) : f;
    const base = resolve(str(s.extends.service), baseFile, [...chain, here]);
    const { extends: _done, ...own } = s;
    return mergeService(base, own);
  };
  const services: Raw = {};
  for (const name of Object.keys(doc.services)) services[name] = resolve(name, file, []);
  return { ...doc, services };
}
