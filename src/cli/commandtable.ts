// A table of commands whose modules are required only when the command is added (main.ts's
// COMMANDS, compose's subcommands): a run adds the one command its argv names.
import type { Command } from 'commander';
import type { Cli } from './cli';

/**
 * One command (or command group): the names (and aliases) it adds to its parent and how to add
 * it. The command's module is required only inside `add`, so a run loads the one command it
 * runs; help and unknown commands add every row (their listing needs them all).
 */
export interface CommandEntry {
  names: readonly string[];
  add(parent: Command, cli: Cli, words: readonly string[]): unknown;
  /** a group's own rows */
  table?: readonly CommandEntry[];
}

/** Adds the row that `words[0]` names, or every row when it names none (help, unknown command). */
export function addCommands(parent: Command, table: readonly CommandEntry[], cli: Cli, words: readonly string[]): void {
  const hit = words.length ? table.find((e) => e.names.includes(words[0])) : undefined;
  if (hit) hit.add(parent, cli, words.slice(1));
  else for (const e of table) e.add(parent, cli, []);
}
