// Validation of one file against the Compose Specification's JSON schema (compose-spec.json),
// with ajv's errors turned into one plain sentence: the file, the path, what was expected.
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import schema from './compose-spec.json';
import { fileError, joinPath } from './errors';

let validator: ValidateFunction | undefined;

// Compiling the schema costs ~0.2 s of CPU on every compose command; ajv's standalone code for it,
// cached per schema and ajv version, loads in a few milliseconds.
const AJV_VERSION: string = require('ajv/package.json').version;
const CACHE_KEY = createHash('sha256').update(AJV_VERSION).update(JSON.stringify(schema)).digest('hex').slice(0, 16);

function cacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'berth', `compose-spec-validator-${CACHE_KEY}.js`);
}

/** Evaluate ajv's standalone module text; it requires only ajv's runtime helpers, resolved from here. */
function evaluate(code: string): ValidateFunction | undefined {
  const mod: { exports: unknown } = { exports: {} };
  new Function('module', 'exports', 'require', code)(mod, mod.exports, require);
  const fn = (mod.exports as { default?: unknown }).default ?? mod.exports;
  return typeof fn === 'function' ? (fn as ValidateFunction) : undefined;
}

function fromCache(file: string): ValidateFunction | undefined {
  try {
    return evaluate(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined; // absent or torn: compiled again below
  }
}

function compile(): { validate: ValidateFunction; code: string } {
  const { $schema: _drafts, ...body } = schema as Record<string, unknown>;
  // formats ("duration", "ports") are checked where the values are parsed; optimize off compiles faster
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false, source: true } });
  const validate = ajv.compile(body);
  return { validate, code: standaloneCode(ajv, validate) };
}

function compiled(): ValidateFunction {
  if (validator) return validator;
  const file = cacheFile();
  validator = fromCache(file);
  if (validator) return validator;
  const { validate, code } = compile();
  validator = validate;
  try {
    // a temp file and a rename: concurrent commands never read half a file
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  } catch {
    // no writable cache: compile each time
  }
  return validator;
}

/** For tests: forget the validator of this process, and where its cache is. */
export function validatorCache(): { file: string; reset: () => void } {
  return { file: cacheFile(), reset: () => { validator = undefined; } };
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean',
  object: 'a mapping', array: 'a list', null: 'null',
};

function words(list: string[]): string {
  const uniq = [...new Set(list)];
  return uniq.length <= 1 ? (uniq[0] ?? '') : `${uniq.slice(0, -1).join(', ')} or ${uniq[uniq.length - 1]}`;
}

/** "/services/web/ports/0" as services.web.ports[0], using the data to tell list indexes from keys. */
function docPath(data: unknown, pointer: string): string {
  let p = '';
  let cur = data;
  for (const seg of pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (Array.isArray(cur)) { p = joinPath(p, Number(seg)); cur = cur[Number(seg)]; }
    else { p = joinPath(p, seg); cur = (cur as Record<string, unknown> | undefined)?.[seg]; }
  }
  return p;
}

function describe(e: ErrorObject): string | undefined {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': return `additional property "${params.additionalProperty}" is not allowed`;
    case 'required': return `missing required property "${params.missingProperty}"`;
    case 'enum': return `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const': return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'pattern': return `must match the pattern ${params.pattern}`;
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return `must be ${String(params.comparison).replace('>=', 'at least').replace('<=', 'at most').replace('>', 'more than').replace('<', 'less than')} ${params.limit}`;
    case 'minItems': return `must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}`;
    case 'maxItems': return `must have at most ${params.limit} items`;
    case 'minProperties': return `must have at least ${params.limit} propert${params.limit === 1 ? 'y' : 'ies'}`;
    case 'uniqueItems': return `must not have duplicate items (items ${params.j} and ${params.i} are the same)`;
    case 'not': return 'is not allowed here';
    case 'oneOf': case 'anyOf': case 'if': case 'type': return undefined;
    default: return e.message;
  }
}

/** The message for a failed validation: errors at the deepest path; a type mismatch only when nothing more precise failed there. */
export function schemaErrorMessage(data: unknown, errors: ErrorObject[]): { path: string; what: string } {
  const depth = (e: ErrorObject) => (e.instancePath === '' ? 0 : e.instancePath.split('/').length);
  const deepest = Math.max(...errors.map(depth));
  const here = errors.filter((e) => depth(e) === deepest);
  const precise = [...new Set(here.map(describe).filter((x): x is string => !!x))];
  let what: string;
  if (precise.length) what = precise.join('; ');
  else {
    const types = here.filter((e) => e.keyword === 'type').flatMap((e) => String((e.params as { type: string }).type).split(','));
    what = types.length ? `must be ${words(types.map((t) => TYPE_WORDS[t] ?? t))}` : (here[0]?.message ?? 'is invalid');
  }
  const path = docPath(data, here[0]?.instancePath ?? '');
  return { path, what };
}

/** Throws a ComposeFileError naming the file when the document does not follow the schema. */
export function validateDocument(data: unknown, file: string): void {
  const validate = compiled();
  if (validate(data)) return;
  const { path, what } = schemaErrorMessage(data, validate.errors ?? []);
  throw fileError(file, path || undefined, what);
}
