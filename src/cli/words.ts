// Where the command is in a berth command line, before commander parses it: main.ts adds only
// the command named, launch.ts picks the code cache made by that command's runs.

/** The global flags that take a value in the next argument. */
export const GLOBAL_VALUE_FLAGS = ['-H', '--host', '-l', '--log-level', '--config', '-c', '--context', '--tlscacert', '--tlscert', '--tlskey'];

/** compose's own flags before its subcommand that take a value in the next argument. */
const COMPOSE_VALUE_FLAGS = ['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--parallel', '--progress', '--ansi', '--workdir'];

/**
 * The leading command words of argv (`container ls` of `berth -H x container ls -a`): the words
 * before the first flag after the command, global flags and their values skipped, and compose's
 * own (`compose up` of `berth compose -f x.yml -p p up -d`).
 */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (words.length === 1 && words[0] === 'compose') {
        if (COMPOSE_VALUE_FLAGS.includes(a)) i++;
        continue;
      }
      if (words.length) break;
      if (GLOBAL_VALUE_FLAGS.includes(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}

/** The groups whose subcommand names a run's code cache with them (`compose-up`, `image-ls`). */
const GROUPS = ['compose', 'container', 'image', 'network', 'volume', 'system', 'registry'];

/**
 * The name of a run's code cache (launch.ts, parts.ts): its command, with the subcommand for a
 * group, since `compose up` and `compose ps` run different code; `_` for a word that is no name.
 */
export function cacheName(argv: readonly string[]): string {
  const words = commandWords(argv);
  let name = words[0] ?? '';
  if (GROUPS.includes(name) && words[1] !== undefined) name += `-${words[1]}`;
  return /^[a-z][a-z0-9-]{0,40}$/.test(name) ? name : '_';
}

/** Whether a run's code cache is worth keeping: it succeeded, and it was not a help text (launch.ts, parts.ts). */
export function cacheWorthSaving(argv: readonly string[], code: number): boolean {
  return code === 0 && !argv.includes('--help');
}
