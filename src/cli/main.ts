#!/usr/bin/env node
// Composition root: `ringleader <command>`. Commands register themselves from their own files.
import { Command } from 'commander';
import { register as registerCoordinator } from './coordinator.js';

const program = new Command('ringleader').description('Ringleader: a distributed in-memory cache cluster with a centralized coordinator').version('0.1.0');

program
  .command('demo')
  .description('the seed demo: coordinator on :8081, 8 nodes with churn, client service on :9001')
  .action(() => {
    console.log('demo: not yet available in this build (see issue 5); showing help instead');
    program.outputHelp();
  });

registerCoordinator(program);

await program.parseAsync(process.argv);
