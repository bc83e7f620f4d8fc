// Validation of one file against the Compose Specification's JSON schema (compose-spec.json),
// with ajv's errors turned into one plain sentence: the file, the path, what was expected.
import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from './compose-spec.json';
import { fileError, joinPath } from './errors';

let validator: ValidateFunction | undefined;

// Compiling the schema costs ~0.2 s of CPU; `npm run build` compiles it once into ajv standalone
// code beside this module (in the CLI bundle and its V8 code cache). Without it (a tsc-only
// build) it is compiled here, in each process.
function schemaBody(): Record<string, unknown> {
  const { $schema: _drafts, ...body } = schema as Record<string, unknown>;
  return body;
}

/** ajv, as the compose schema is compiled: all errors, formats checked where values are parsed, optimize off compiles faster. */
function newAjv(source: boolean): import('ajv').default {
  const Ajv = (require('ajv') as typeof import('ajv')).default;
  // (the build's standalone code is optimized: it is made once; one compiled at run time is not, which compiles faster)
  return new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: source ? 1 : false, source } });
}

/** The standalone module text of the validator (the build writes it to PREBUILT). */
export function validatorSource(): string {
  const ajv = newAjv(true);
  const standaloneCode = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone')).default;
  return standaloneCode(ajv, ajv.compile(schemaBody()));
}

function prebuilt(): ValidateFunction | undefined {
  try {
    // written beside this file by `npm run build` (scripts/build-compose-validator.js); a literal, so the bundle takes it in
    const mod = require('./compose-spec-validator.js') as { default?: unknown };
    const fn = mod.default ?? mod;
    return typeof fn === 'function' ? (fn as ValidateFunction) : undefined;
  } catch {
    return undefined; // a tsc-only build: compiled below
  }
}

function compiled(): ValidateFunction {
  validator ??= prebuilt() ?? newAjv(false).compile(schemaBody());
  return validator;
}

/** For tests: the validator the build made (undefined without one), and one compiled now. */
export function validators(): { prebuilt: ValidateFunction | undefined; fresh: ValidateFunction } {
  return { prebuilt: prebuilt(), fresh: newAjv(false).compile(schemaBody()) };
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
