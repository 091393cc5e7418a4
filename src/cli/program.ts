// The `ringleader` command tree (commander), without parsing: main.ts parses argv with it, and tests walk it (every
// flag the docs name must exist here).
import { Command } from 'commander';
import { register as registerCoordinator } from './coordinator.js';
import { register as registerDemo } from './demo.js';
import { register as registerClient } from './client.js';
import { register as registerNode } from './node.js';
import { register as registerOps } from './ops.js';

export function buildProgram(): Command {
  const program = new Command('ringleader')
    .description('Ringleader: a distributed in-memory cache cluster with a centralized coordinator')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => undefined }) // main.ts prints errors as one line
    .showSuggestionAfterError(true);
  registerCoordinator(program);
  registerDemo(program);
  registerClient(program);
  registerNode(program);
  registerOps(program);
  return program;
}
