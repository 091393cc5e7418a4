export { ManualClock } from './manual-clock.js';
export { freePort } from './ports.js';
export { startEtcd, type TestEtcd } from './etcd.js';
export { startCopyReporter, type CopyReporter } from './copy-reporter.js';
