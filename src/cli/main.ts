#!/usr/bin/env node
// Composition root: `ringleader <command>` (the command tree is in program.ts). A command-line mistake (unknown flag,
// bad value, missing argument) prints one line naming the flag and exits with code 2.
import { CommanderError } from 'commander';
import { UsageError } from './options.js';
import { stopWithParent } from './parent.js';
import { buildProgram } from './program.js';

const program = buildProgram();

/** The subcommand named on the command line (for the error prefix). */
function commandName(): string {
  const known = new Set(program.commands.map((c) => c.name()));
  const sub = process.argv.slice(2).find((a) => known.has(a));
  return sub === undefined ? 'ringleader' : `ringleader ${sub}`;
}

stopWithParent();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0); // --help, --version
    if (err.code === 'commander.help') process.exit(2); // no command: the help was printed (to stderr)
    process.stderr.write(`${commandName()}: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(2);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`${commandName()}: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${commandName()}: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
}
