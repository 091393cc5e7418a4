/**
 * DEBUG SLEEP | SET-ACTIVE-EXPIRE | PROTOCOL | HELP, refused unless the node runs with --enable-debug-command
 * (Redis 7's enable-debug-command defaults to no as well). SLEEP blocks the event loop on purpose, as it blocks
 * Redis: tests use it to hold a node busy. PROTOCOL answers one reply of each RESP type, the way Redis does.
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import type { Connection } from '../connection.js';
import { errorText } from '../replies.js';
import { CMD_ADMIN, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_DEBUG_DISABLED = errorText(NODE_ERRORS.NOT_SUPPORTED, 'DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.');
const ERR_PROTOCOL_TYPE = errorText(NODE_ERRORS.SYNTAX_ERROR, 'Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false');
const ERR_RESP2_PUSH = errorText(NODE_ERRORS.SYNTAX_ERROR, 'RESP2 is not supported by this command');
/** Longest DEBUG SLEEP accepted: a node should not be frozen by a typo. */
const MAX_SLEEP_SECONDS = 60;

const DEBUG_HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'PROTOCOL <type>',
  '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
  '    true, false.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
  'HELP',
  '    Print this help.',
];

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function protocol(type: string, w: ReplyWriter): void {
  switch (type) {
    case 'string': return w.bulk('Hello World');
    case 'integer': return w.integer(12345);
    case 'double': return w.double(3.141);
    case 'bignum': return w.bignum('1234567999999999999999999999999999999');
    case 'null': return w.nil();
    case 'array':
    case 'set':
      if (type === 'array') w.array(3);
      else w.set(3);
      for (let j = 0; j < 3; j++) w.integer(j);
      return;
    case 'map':
      w.map(3);
      for (let j = 0; j < 3; j++) {
        w.integer(j);
        w.boolean(j === 1);
      }
      return;
    case 'attrib':
      if (w.resp3) {
        w.attribute(1);
        w.bulk('key-popularity');
        w.array(2);
        w.bulk('key:123');
        w.integer(90);
      }
      return w.bulk('Some real reply following the attribute');
    case 'push':
      if (!w.resp3) return w.error(ERR_RESP2_PUSH);
      w.push(2);
      w.bulk('server-cpu-usage');
      w.integer(42);
      return w.bulk('Some real reply following the push reply');
    case 'verbatim': return w.verbatim('This is a verbatim\nstring');
    case 'true': return w.boolean(true);
    case 'false': return w.boolean(false);
    default: return w.error(ERR_PROTOCOL_TYPE);
  }
}

function debug(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  if (!ctx.options.enableDebug) return w.error(ERR_DEBUG_DISABLED);
  const sub = req.str(1).toLowerCase();
  const argc = req.argc;
  if (sub === 'help' && argc === 2) {
    w.array(DEBUG_HELP.length);
    for (const l of DEBUG_HELP) w.simple(l);
    return;
  }
  if (sub === 'sleep' && argc === 3) {
    // strtod semantics: a leading number, else 0.
    const seconds = Number.parseFloat(req.str(2));
    const ms = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, MAX_SLEEP_SECONDS) * 1000 : 0;
    if (ms > 0) sleepSync(ms);
    return w.raw(REPLY_OK);
  }
  if (sub === 'set-active-expire' && argc === 3) {
    // atoi semantics: a leading integer, else 0.
    ctx.activeExpire = (Number.parseInt(req.str(2), 10) || 0) !== 0;
    return w.raw(REPLY_OK);
  }
  if (sub === 'protocol' && argc === 3) return protocol(req.str(2).toLowerCase(), w);
  w.error(errorText(NODE_ERRORS.UNKNOWN_COMMAND, `unknown subcommand or wrong number of arguments for '${req.str(1).slice(0, 128)}'. Try DEBUG HELP.`));
}

export function registerDebugCommands(t: CommandTable): void {
  t.add(cmd('debug', -2, CMD_ADMIN, NO_KEYS, debug, 'DEBUG SLEEP/SET-ACTIVE-EXPIRE/PROTOCOL/HELP (needs --enable-debug-command)', {
    support: 'partial', note: 'SLEEP, SET-ACTIVE-EXPIRE, PROTOCOL and HELP only; needs --enable-debug-command',
  }));
}
