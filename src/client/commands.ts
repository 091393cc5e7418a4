/**
 * What the client knows about commands, by name: which ones only read. A read is safe to send again after its
 * outcome became unknown (a closed connection or a timeout after sending) and may be served by a backup copy
 * (`readFrom: 'any'`). Everything else counts as a write: never resent once it may have reached a node.
 *
 * The list is the node's key-bearing commands flagged `readonly` in its command table (src/node/commands); the client
 * may not import the node, so a unit test (commands.test.ts) keeps the two in step.
 */
const READ_COMMANDS: ReadonlySet<string> = new Set([
  'GET', 'MGET', 'STRLEN', 'GETRANGE', 'SUBSTR', 'EXISTS', 'TOUCH', 'TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'TYPE',
  'GETBIT', 'BITCOUNT', 'BITPOS', 'LCS', 'OBJECT', 'MEMORY',
  // hashes
  'HEXISTS', 'HGET', 'HGETALL', 'HKEYS', 'HLEN', 'HMGET', 'HRANDFIELD', 'HSCAN', 'HSTRLEN', 'HVALS',
  // sets
  'SCARD', 'SDIFF', 'SINTER', 'SINTERCARD', 'SISMEMBER', 'SMEMBERS', 'SMISMEMBER', 'SRANDMEMBER', 'SSCAN', 'SUNION',
  // sorted sets
  'ZCARD', 'ZCOUNT', 'ZDIFF', 'ZINTER', 'ZINTERCARD', 'ZLEXCOUNT', 'ZMSCORE', 'ZRANDMEMBER', 'ZRANGE', 'ZRANGEBYLEX', 'ZRANGEBYSCORE',
  'ZRANK', 'ZREVRANGE', 'ZREVRANGEBYLEX', 'ZREVRANGEBYSCORE', 'ZREVRANK', 'ZSCAN', 'ZSCORE', 'ZUNION',
]);

/** True for a command that only reads keys (case-insensitive name). */
export function isReadCommand(name: string): boolean {
  return READ_COMMANDS.has(name) || READ_COMMANDS.has(name.toUpperCase());
}

/** The read commands, upper case (for tests and docs). */
export function readCommands(): readonly string[] {
  return [...READ_COMMANDS];
}
