export * from './control.js';
export * from './errors/index.js';
