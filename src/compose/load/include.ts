// `include`: other compose files loaded as projects of their own (their own project directory
// and .env), whose services, networks, volumes, secrets and configs are added to this file's.
// A resource defined both here and in an included file is refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { str, toList } from './cast';
import { fileError } from './errors';
import { isMapping, Raw } from './yaml';

export interface IncludeSpec {
  files: string[];
  projectDirectory: string;
  envFiles: string[];
}

/** The include entries of a document, with paths resolved against `baseDir`. */
export function includeSpecs(doc: Raw, baseDir: string): IncludeSpec[] {
  const list = Array.isArray(doc.include) ? doc.include : [];
  return list.map((entry) => {
    const e: Raw = isMapping(entry) ? entry : { path: entry };
    const files = toList(e.path).map((f) => path.resolve(baseDir, f));
    const projectDirectory = e.project_directory ? path.resolve(baseDir, str(e.project_directory)) : path.dirname(files[0]);
    const envFiles = e.env_file !== undefined ? toList(e.env_file).map((f) => path.resolve(baseDir, f)) : [path.join(projectDirectory, '.env')].filter((f) => fs.existsSync(f));
    return { files, projectDirectory, envFiles };
  });
}

const SECTIONS = ['services', 'networks', 'volumes', 'secrets', 'configs'];

/** The included document's resources added to `doc`; the same name in both is an error. */
export function addIncluded(doc: Raw, included: Raw, file: string, includedFiles: string[]): Raw {
  const out: Raw = { ...doc };
  for (const section of SECTIONS) {
    const theirs = included[section];
    if (!isMapping(theirs)) continue;
    const ours: Raw = isMapping(out[section]) ? { ...(out[section] as Raw) } : {};
    for (const [k, v] of Object.entries(theirs)) {
      if (k in ours && JSON.stringify(ours[k]) !== JSON.stringify(v)) {
        throw fileError(file, `${section}.${k}`, `conflicts with the ${section === 'services' ? 'service' : section.slice(0, -1)} of the same name in the included ${includedFiles.join(', ')}`);
      }
      ours[k] = v;
    }
    out[section] = ours;
  }
  delete out.include;
  return out;
}
