// Where the command is in a berth command line, before commander parses it: main.ts adds only
// the command named, launch.ts picks the code cache made by that command's runs.

/** The global flags that take a value in the next argument. */
export const GLOBAL_VALUE_FLAGS = ['-H', '--host', '-l', '--log-level', '--config', '-c', '--context', '--tlscacert', '--tlscert', '--tlskey'];

/**
 * The leading command words of argv (`container ls` of `berth -H x container ls -a`): the words
 * before the first flag after the command, global flags and their values skipped.
 */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (words.length) break;
      if (GLOBAL_VALUE_FLAGS.includes(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}
