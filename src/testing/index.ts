export { ManualClock } from './manual-clock.js';
export { freePort } from './ports.js';
export { startCopyReporter, type CopyReporter } from './copy-reporter.js';
