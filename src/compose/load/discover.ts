// Which compose files a project is made of, and its name, as compose v2 decides them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposeFileError } from '../model';

/** compose-go's order: the first one found wins, with a warning when several exist. */
export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILE_NAMES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

function existing(dir: string, names: string[]): string[] {
  return names.map((n) => path.join(dir, n)).filter((f) => { try { return fs.statSync(f).isFile(); } catch { return false; } });
}

/**
 * The files found in `dir` or the nearest parent that has one: the main file, then its override.
 * Warnings (several candidates) go to `warn` with compose's wording.
 */
export function findComposeFiles(dir: string, warn: (m: string) => void): string[] {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const candidates = existing(d, DEFAULT_FILE_NAMES);
    if (candidates.length) {
      const files = [pick(candidates, warn)];
      const overrides = existing(d, OVERRIDE_FILE_NAMES);
      if (overrides.length) files.push(pick(overrides, warn));
      return files;
    }
    if (path.dirname(d) === d) break;
  }
  throw new ComposeFileError('no configuration file provided: not found');
}

function pick(candidates: string[], warn: (m: string) => void): string {
  if (candidates.length > 1) {
    warn(`Found multiple config files with supported names: ${candidates.join(', ')}`);
    warn(`Using ${candidates[0]}`);
  }
  return candidates[0];
}

/** COMPOSE_FILE: paths separated by COMPOSE_PATH_SEPARATOR (":" on Linux), relative to `dir`. */
export function filesFromEnv(value: string, separator: string | undefined, dir: string): string[] {
  return value.split(separator || ':').filter((f) => f !== '').map((f) => path.resolve(dir, f));
}

/** compose's normalisation of a name taken from a directory: lower case, only [a-z0-9_-]. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

/** A name the user gave (-p, COMPOSE_PROJECT_NAME, `name:`) must already be normal: compose refuses it otherwise. */
export function checkProjectName(name: string): string {
  if (name === '' || normalizeProjectName(name) !== name) {
    throw new ComposeFileError(`invalid project name "${name}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a lowercase letter or number`);
  }
  return name;
}
