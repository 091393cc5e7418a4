export { ManualClock } from './manual-clock.js';
export { freePort } from './ports.js';
export { startEtcd, type TestEtcd } from './etcd.js';
