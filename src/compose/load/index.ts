// loadProject: compose files to the resolved model (src/compose/model.ts). The steps, each in its
// own module: find the files (discover), read .env (dotenv), per file parse (yaml), interpolate,
// validate (schema), rewrite short syntaxes (canonical), apply include and extends; then merge
// the files in order (merge), set inactive profiles aside (profiles) and build the model (normalize).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Project, Service } from '../model';
import { ComposeFileError } from '../model';
import { canonicalDocument } from './canonical';
import { checkProjectName, filesFromEnv, findComposeFiles, normalizeProjectName } from './discover';
import { readDotEnv } from './dotenv';
import { fileError } from './errors';
import { applyExtends } from './extends';
import { addIncluded, includeSpecs } from './include';
import { interpolateDocument } from './interpolate';
import { mergeDocuments, stripMarkers } from './merge';
import { checkReferences, normalizeResources, normalizeService } from './normalize';
import { applyProfiles, profilesFromEnv } from './profiles';
import { validateDocument } from './validate';
import { parseYaml, Raw } from './yaml';

export interface LoadOptions {
  /** where discovery starts and relative -f paths are resolved; default process.cwd() */
  workingDir?: string;
  /** --project-directory: the base of relative paths in the files; default the first file's directory */
  projectDirectory?: string;
  /** -f, in order */
  files?: string[];
  /** -p */
  projectName?: string;
  /** --env-file, in order (later files win); default `.env` in the project directory */
  envFiles?: string[];
  /** --profile; default COMPOSE_PROFILES */
  profiles?: string[];
  /** services named on the command line: their profiles become active */
  services?: string[];
  /** the environment compose runs in; default process.env */
  env?: Record<string, string | undefined>;
  /** --no-interpolate sets this false */
  interpolate?: boolean;
  /** warnings (unset variables, several candidate files), compose's wording */
  warn?: (message: string) => void;
}

interface FileContext {
  /** the variables interpolation sees */
  environment: Record<string, string>;
  /** the process environment, which wins over any env file */
  processEnv: Record<string, string>;
  interpolate: boolean;
  warn: (message: string) => void;
  /** files being loaded (include cycles) */
  loading: string[];
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Env files read in order, each seeing the variables before it; a missing one is an error. */
function readEnvFiles(files: string[], processEnv: Record<string, string>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const f of files) {
    const v = readDotEnv(f, (n) => processEnv[n] ?? vars[n]);
    if (v === undefined) throw new ComposeFileError(`couldn't find env file: ${f}`, f);
    Object.assign(vars, v);
  }
  return vars;
}

function readComposeFile(file: string): string {
  try {
    // `-f -`: the file is standard input
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ComposeFileError(code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${(e as Error).message}`, file);
  }
}

/** One file, parsed, interpolated, validated and in canonical form (paths against `baseDir`), includes and extends not applied. */
function loadDocument(file: string, baseDir: string, ctx: FileContext): Raw {
  let raw = parseYaml(readComposeFile(file), file);
  if (ctx.interpolate) {
    const env = ctx.environment;
    raw = interpolateDocument(raw, { lookup: (n) => env[n], warn: ctx.warn }, file);
  }
  validateDocument(stripMarkers(raw), file);
  if ('version' in raw) {
    ctx.warn(`${file}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
    delete raw.version;
  }
  return canonicalDocument(raw, baseDir, file);
}

/** One file with its includes and its services' `extends` applied. */
function loadFile(file: string, baseDir: string, ctx: FileContext): Raw {
  if (ctx.loading.includes(file)) throw fileError(file, 'include', `include cycle: ${[...ctx.loading, file].join(' -> ')}`);
  const inner: FileContext = { ...ctx, loading: [...ctx.loading, file] };
  let doc = loadDocument(file, baseDir, inner);
  for (const inc of includeSpecs(doc, baseDir)) {
    const environment = { ...ctx.environment, ...readEnvFiles(inc.envFiles, ctx.processEnv), ...ctx.processEnv };
    const incCtx: FileContext = { ...inner, environment };
    let included: Raw = {};
    for (const f of inc.files) included = mergeDocuments(included, loadFile(f, inc.projectDirectory, incCtx));
    doc = addIncluded(doc, included, file, inc.files);
  }
  delete doc.include;
  // a base in another file has paths relative to that file's directory
  return applyExtends(doc, file, (f) => loadDocument(f, path.dirname(f), inner));
}

/**
 * The files of the project: -f, else COMPOSE_FILE (both relative to the working directory), else
 * the ones found in the project directory (--project-directory, else the working directory) or above, as compose-go looks.
 */
function projectFiles(opts: LoadOptions, cwd: string, searchDir: string, env: Record<string, string>, warn: (m: string) => void): string[] {
  if (opts.files?.length) return opts.files.map((f) => (f === '-' ? f : path.resolve(cwd, f)));
  if (env.COMPOSE_FILE) return filesFromEnv(env.COMPOSE_FILE, env.COMPOSE_PATH_SEPARATOR, cwd);
  return findComposeFiles(searchDir, warn);
}

function projectName(opts: LoadOptions, env: Record<string, string>, doc: Raw, projectDir: string): string {
  if (opts.projectName) return checkProjectName(opts.projectName);
  if (env.COMPOSE_PROJECT_NAME) return checkProjectName(env.COMPOSE_PROJECT_NAME);
  if (typeof doc.name === 'string' && doc.name !== '') return checkProjectName(doc.name);
  const name = normalizeProjectName(path.basename(projectDir));
  if (!name) throw new ComposeFileError(`project name must not be empty (the directory ${projectDir} gives none): use -p`);
  return name;
}

export async function loadProject(opts: LoadOptions = {}): Promise<Project> {
  return loadProjectSync(opts);
}

export function loadProjectSync(opts: LoadOptions = {}): Project {
  const warn = opts.warn ?? (() => undefined);
  const cwd = path.resolve(opts.workingDir ?? process.cwd());
  const processEnv = definedOnly(opts.env ?? process.env);
  const explicitEnvFiles = opts.envFiles?.map((f) => path.resolve(cwd, f));

  // COMPOSE_FILE and the other COMPOSE_ variables may come from the .env of the working directory
  const preDir = opts.projectDirectory ? path.resolve(cwd, opts.projectDirectory) : cwd;
  const preEnvFiles = explicitEnvFiles ?? [path.join(preDir, '.env')].filter((f) => fs.existsSync(f));
  const preEnv = { ...readEnvFiles(preEnvFiles, processEnv), ...processEnv };
  const files = projectFiles(opts, cwd, preDir, preEnv, warn);

  const projectDir = opts.projectDirectory ? path.resolve(cwd, opts.projectDirectory) : files[0] === '-' ? cwd : path.dirname(files[0]);
  const envFiles = explicitEnvFiles ?? [path.join(projectDir, '.env')].filter((f) => fs.existsSync(f));
  const environment = { ...readEnvFiles(envFiles, processEnv), ...processEnv };

  const ctx: FileContext = { environment, processEnv, interpolate: opts.interpolate !== false, warn, loading: [] };
  let doc: Raw = {};
  for (const f of files) doc = mergeDocuments(doc, loadFile(f, projectDir, ctx));

  const name = projectName(opts, environment, doc, projectDir);
  const nctx = { projectName: name, environment };
  const all: Record<string, Service> = {};
  for (const [svcName, raw] of Object.entries((doc.services ?? {}) as Record<string, Raw>)) all[svcName] = normalizeService(svcName, raw ?? {}, nctx);

  const targeted = opts.services ?? [];
  for (const s of targeted) if (!all[s]) throw new ComposeFileError(`no such service: ${s}`);
  const profiles = opts.profiles?.length ? opts.profiles : profilesFromEnv(environment.COMPOSE_PROFILES);
  const { enabled, disabled } = applyProfiles(all, profiles, targeted);
  const resources = normalizeResources(doc, Object.values(enabled), nctx);
  const project: Project = {
    name,
    working_dir: projectDir,
    config_files: files,
    env_files: envFiles,
    environment,
    services: enabled,
    disabled_services: disabled,
    ...resources,
  };
  checkReferences(project, targeted);
  return project;
}
