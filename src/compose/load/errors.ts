// Errors of the loader: every one names the file, the path in the document and what was expected.
import * as path from 'node:path';
import { ComposeFileError } from '../model';

/** How a file is named in messages: relative to the current directory when it is below it. */
export function displayFile(file: string): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function fileError(file: string | undefined, docPath: string | undefined, what: string): ComposeFileError {
  const parts = [file ? displayFile(file) : undefined, docPath, what].filter((x) => x !== undefined && x !== '');
  return new ComposeFileError(parts.join(': '), file, docPath);
}

/** A document path as compose prints it: services.web.ports[0]. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}
