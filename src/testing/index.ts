export { ManualClock } from './manual-clock.js';
export { freePort } from './ports.js';
export { prepareEtcd, startEtcd, type TestEtcd } from './etcd.js';
export { startRedisServer, type RedisServerProcess } from './redis-server.js';
export { RawRespClient, encodeCommand, parseReply, type RawReply, type RespNode } from './resp-raw.js';
export { startCopyReporter, type CopyReporter } from './copy-reporter.js';
export { TcpProxy } from './tcp-proxy.js';
