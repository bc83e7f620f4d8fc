import { randomBytes } from 'node:crypto';

/** A 64-hex identifier, as Docker uses for containers and exec sessions. */
export function newId(): string {
  // Docker avoids all-numeric short IDs, which the CLI could mistake for numbers.
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}/.test(id)) return id;
  }
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
