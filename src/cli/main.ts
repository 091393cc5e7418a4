#!/usr/bin/env node
// Composition root: `ringleader <command>`. Commands register themselves from their own files.
import { Command } from 'commander';
import { register as registerCoordinator } from './coordinator.js';
import { register as registerDemo } from './demo.js';
import { register as registerClient } from './client.js';
import { register as registerNode } from './node.js';
import { stopWithParent } from './parent.js';

const program = new Command('ringleader').description('Ringleader: a distributed in-memory cache cluster with a centralized coordinator').version('0.1.0');

registerCoordinator(program);
registerDemo(program);
registerClient(program);
registerNode(program);

stopWithParent();
await program.parseAsync(process.argv);
