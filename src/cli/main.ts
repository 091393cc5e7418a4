#!/usr/bin/env node
// Composition root: `ringleader <command>`. Commands register themselves from their own files. A command-line mistake
// (unknown flag, bad value, missing argument) prints one line naming the flag and exits with code 2.
import { Command, CommanderError } from 'commander';
import { register as registerCoordinator } from './coordinator.js';
import { register as registerDemo } from './demo.js';
import { register as registerClient } from './client.js';
import { register as registerNode } from './node.js';
import { register as registerOps } from './ops.js';
import { UsageError } from './options.js';
import { stopWithParent } from './parent.js';

const program = new Command('ringleader')
  .description('Ringleader: a distributed in-memory cache cluster with a centralized coordinator')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: () => undefined }) // printed below, as one line
  .showSuggestionAfterError(true);

registerCoordinator(program);
registerDemo(program);
registerClient(program);
registerNode(program);
registerOps(program);

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
