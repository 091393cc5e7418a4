/** Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, CLIENT, READONLY/READWRITE/ASKING. */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK, REPLY_PONG } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import type { Connection } from '../connection.js';
import { ERR_NOAUTH, ERR_SYNTAX, ERR_WRONGPASS, errNotSupported, errUnknownSubcommand, errWrongArity, errorText } from '../replies.js';
import { CMD_ADMIN, CMD_FAST, CMD_NO_AUTH, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';

function ping(_ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  if (req.argc === 1) w.raw(REPLY_PONG);
  else if (req.argc === 2) w.bulk(req.arg(1));
  else w.error(errWrongArity('ping'));
}

function echo(_ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  w.bulk(req.arg(1));
}

function quit(_ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  w.raw(REPLY_OK);
  c.closing = true;
}

/** Checks a password (and user `default`); on success lifts the unauthenticated limits. */
function authenticate(ctx: CommandContext, c: Connection, user: string, pass: string): boolean {
  if (user !== 'default' || pass !== ctx.options.requirePass) return false;
  c.authenticated = true;
  const o = ctx.options;
  c.decoder.setLimits({ maxBulkBytes: o.maxBulkBytes, maxMultibulkCount: o.maxMultibulkCount });
  c.decoder.unauthenticated = false;
  return true;
}

function auth(ctx: CommandContext, c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  if (req.argc > 3) return w.error(ERR_SYNTAX);
  if (ctx.options.requirePass === '') {
    return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'));
  }
  const ok = req.argc === 2 ? authenticate(ctx, c, 'default', req.str(1)) : authenticate(ctx, c, req.str(1), req.str(2));
  if (ok) w.raw(REPLY_OK);
  else w.error(ERR_WRONGPASS);
}

/** HELLO [protover [AUTH user pass] [SETNAME name]]: switches RESP2/RESP3 and replies with the server's facts. */
function hello(ctx: CommandContext, c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  let proto = c.resp;
  let i = 1;
  if (req.argc >= 2) {
    const v = req.int(1);
    if (Number.isNaN(v)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'Protocol version is not an integer or out of range'));
    if (v !== 2 && v !== 3) return w.error(errorText(NODE_ERRORS.NOPROTO, 'unsupported protocol version'));
    proto = v;
    i = 2;
  }
  let name: string | undefined;
  for (; i < req.argc; i++) {
    const o = req.str(i).toLowerCase();
    if (o === 'auth' && i + 2 < req.argc) {
      if (ctx.options.requirePass === '' ? false : !authenticate(ctx, c, req.str(i + 1), req.str(i + 2))) return w.error(ERR_WRONGPASS);
      i += 2;
    } else if (o === 'setname' && i + 1 < req.argc) {
      name = req.str(++i);
    } else return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `Syntax error in HELLO option '${req.str(i)}'`));
  }
  if (!c.authenticated) {
    return w.error(errorText(NODE_ERRORS.NOAUTH, 'HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'));
  }
  if (name !== undefined) c.name = name;
  c.resp = proto;
  w.resp3 = proto === 3;
  w.map(7);
  w.bulk('server');
  w.bulk('redis');
  w.bulk('version');
  w.bulk(ctx.options.version);
  w.bulk('proto');
  w.integer(proto);
  w.bulk('id');
  w.integer(c.id);
  w.bulk('mode');
  w.bulk('cluster');
  w.bulk('role');
  w.bulk('master');
  w.bulk('modules');
  w.array(0);
}

function select(_ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  if (req.int(1) === 0) w.raw(REPLY_OK);
  else w.error(errNotSupported('SELECT is not allowed in cluster mode'));
}

const CLIENT_SUBCOMMANDS = ['getname', 'help', 'id', 'info', 'kill', 'list', 'no-evict', 'reply', 'setinfo', 'setname'];

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  '    * ID <client-id> [<client-id> ...]',
  '      Return clients of specified IDs only.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>',
  '    Set client library name or version.',
  'HELP',
  '    Print this help.',
];

/** The subcommand's Redis arity: wrong counts get Redis's `client|x` arity error. */
const CLIENT_ARITY: Readonly<Record<string, number>> = { getname: 2, help: 2, id: 2, info: 2, kill: -3, list: -2, 'no-evict': 3, reply: 3, setinfo: 4, setname: 3 };

function client(ctx: CommandContext, c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const sub = req.str(1).toLowerCase();
  const arity = CLIENT_ARITY[sub];
  if (arity === undefined) {
    if (sub === 'pause' || sub === 'unpause' || sub === 'tracking' || sub === 'no-touch' || sub === 'caching' || sub === 'getredir' || sub === 'trackinginfo' || sub === 'unblock') {
      return w.error(errNotSupported(`CLIENT ${sub.toUpperCase()} is not supported`));
    }
    return w.error(errUnknownSubcommand(req.str(1), 'client'));
  }
  if (arity > 0 ? req.argc !== arity : req.argc < -arity) return w.error(errWrongArity(`client|${sub}`));
  switch (sub) {
    case 'setname': {
      const name = req.str(2);
      if (/[^\x21-\x7e]/.test(name)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'Client names cannot contain spaces, newlines or special characters.'));
      c.name = name;
      return w.raw(REPLY_OK);
    }
    case 'getname':
      return c.name === '' ? w.nil() : w.bulk(c.name);
    case 'id':
      return w.integer(c.id);
    case 'help':
      w.array(CLIENT_HELP.length);
      for (const l of CLIENT_HELP) w.simple(l);
      return;
    case 'setinfo': {
      const attr = req.str(2).toLowerCase();
      const value = req.str(3);
      if (attr !== 'lib-name' && attr !== 'lib-ver') return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `Unrecognized option '${req.str(2)}'`));
      if (/[^\x21-\x7e]/.test(value)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `${attr} cannot contain spaces, newlines or special characters.`));
      if (attr === 'lib-name') c.libName = value;
      else c.libVersion = value;
      return w.raw(REPLY_OK);
    }
    case 'info':
      return w.verbatim(clientLine(ctx, c));
    case 'list':
      return clientList(ctx, req, w);
    case 'kill':
      return clientKill(ctx, c, req, w);
    case 'no-evict': {
      const v = req.str(2).toLowerCase();
      if (v !== 'on' && v !== 'off') return w.error(ERR_SYNTAX);
      return w.raw(REPLY_OK);
    }
    default: {
      // reply
      const mode = req.str(2).toLowerCase();
      if (mode === 'on') {
        c.replyOff = false;
        c.replySkip = false;
        c.replySkipNext = false;
        return w.raw(REPLY_OK);
      }
      if (mode === 'off') {
        c.replyOff = true;
        return;
      }
      if (mode === 'skip') {
        if (!c.replyOff) c.replySkipNext = true;
        return;
      }
      return w.error(ERR_SYNTAX);
    }
  }
}

/**
 * CLIENT KILL ip:port (the old form: +OK or "No such client"), or CLIENT KILL with filters ID, ADDR, LADDR, TYPE,
 * USER, SKIPME (the new form: the number of clients closed). A client closed by its own KILL gets the reply first.
 */
function clientKill(ctx: CommandContext, c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const kill = (victims: Connection[]): void => {
    for (const v of victims) {
      if (v === c) c.closing = true; // replied to, then closed by the server
      else v.socket.destroy();
    }
  };
  if (req.argc === 3) {
    const addr = req.str(2);
    const victims = [...ctx.clients()].filter((x) => x.address === addr);
    if (victims.length === 0) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'No such client'));
    kill(victims);
    return w.raw(REPLY_OK);
  }
  let id: number | undefined;
  let addr: string | undefined;
  let laddr: string | undefined;
  let skipMe = true;
  let typeFilter: string | undefined;
  for (let i = 2; i < req.argc; i += 2) {
    if (i + 1 >= req.argc) return w.error(ERR_SYNTAX);
    const f = req.str(i).toLowerCase();
    const v = req.str(i + 1);
    if (f === 'id') {
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'client-id should be greater than 0'));
      id = n;
    } else if (f === 'addr') addr = v;
    else if (f === 'laddr') laddr = v;
    else if (f === 'type') {
      const t = v.toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `Unknown client type '${v}'`));
      typeFilter = t;
    } else if (f === 'user') {
      if (v !== 'default') return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `No such user '${v}'`));
    } else if (f === 'skipme') {
      const y = v.toLowerCase();
      if (y !== 'yes' && y !== 'no') return w.error(ERR_SYNTAX);
      skipMe = y === 'yes';
    } else return w.error(ERR_SYNTAX);
  }
  const victims = [...ctx.clients()].filter((x) => (id === undefined || x.id === id) && (addr === undefined || x.address === addr)
    && (laddr === undefined || x.localAddress === laddr) && (typeFilter === undefined || typeFilter === 'normal') && !(skipMe && x === c));
  kill(victims);
  w.integer(victims.length);
}

/** RESET: the connection back to its initial state (no transaction, no WATCH, replies on, no name, RESP2...). */
function reset(ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  c.multi = null;
  c.multiBytes = 0;
  c.multiDirty = false;
  c.multiSlot = -1;
  ctx.unwatchAll(c);
  c.replyOff = c.replySkipNext = false; // a SKIP already in force still drops RESET's own reply, as in Redis
  c.name = '';
  c.readonly = false;
  c.asking = false;
  c.resp = 2;
  w.resp3 = false;
  if (ctx.options.requirePass !== '') {
    c.authenticated = false;
    c.decoder.unauthenticated = true;
  }
  w.simple('RESET');
}

/** ROLE: every node answers as a primary without Redis replicas (partition copies are not Redis replication). */
function role(_ctx: CommandContext, _c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  w.array(3);
  w.bulk('master');
  w.integer(0);
  w.array(0);
}

/** CLIENT LIST [TYPE normal|master|replica|slave|pubsub] [ID id ...]: every connection, one line each. */
function clientList(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter): void {
  let ids: Set<number> | null = null;
  let type: string | null = null;
  for (let i = 2; i < req.argc; i++) {
    const o = req.str(i).toLowerCase();
    if (o === 'type' && i + 1 < req.argc) {
      type = req.str(++i).toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `Unknown client type '${req.str(i)}'`));
    } else if (o === 'id' && i + 1 < req.argc) {
      ids = new Set();
      for (i++; i < req.argc; i++) {
        const id = req.int(i);
        if (!Number.isSafeInteger(id) || id <= 0) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'Invalid client ID'));
        ids.add(id);
      }
    } else return w.error(ERR_SYNTAX);
  }
  let text = '';
  if (type === null || type === 'normal') {
    for (const conn of ctx.clients()) if (ids === null || ids.has(conn.id)) text += clientLine(ctx, conn);
  }
  w.verbatim(text);
}

/** Redis 7's `fd` of a socket (the handle's descriptor; -1 when unknown). */
function fdOf(conn: Connection): number {
  const handle = (conn.socket as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}

/** One CLIENT LIST / CLIENT INFO line with Redis 7's fields (plus 7.2's lib-name/lib-ver), ending in a newline. */
function clientLine(ctx: CommandContext, c: Connection): string {
  const now = ctx.now();
  const qbuf = c.decoder.buffered;
  const omem = c.socket.writableLength;
  const flags = c.readonly ? 'r' : 'N';
  return `id=${c.id} addr=${c.address} laddr=${c.localAddress} fd=${fdOf(c)} name=${c.name} age=${Math.floor((now - c.createdAt) / 1000)} ` +
    `idle=${Math.floor((now - c.lastCommandAt) / 1000)} flags=${flags} db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=${qbuf} qbuf-free=0 argv-mem=0 ` +
    `multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=${omem} tot-mem=${qbuf + omem} events=${omem > 0 ? 'rw' : 'r'} cmd=${c.lastCommand} user=default ` +
    `redir=-1 resp=${c.resp} lib-name=${c.libName} lib-ver=${c.libVersion}\n`;
}

function readonly(_ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  c.readonly = true;
  w.raw(REPLY_OK);
}

function readwrite(_ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  c.readonly = false;
  w.raw(REPLY_OK);
}

function asking(_ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  c.asking = true;
  w.raw(REPLY_OK);
}

export function registerConnectionCommands(t: CommandTable): void {
  t.add(cmd('ping', -1, CMD_FAST, NO_KEYS, ping, 'PONG, or echo the argument'));
  t.add(cmd('echo', 2, CMD_FAST, NO_KEYS, echo, 'Echo the argument'));
  t.add(cmd('quit', -1, CMD_NO_AUTH | CMD_FAST, NO_KEYS, quit, 'Close the connection'));
  t.add(cmd('auth', -2, CMD_NO_AUTH | CMD_FAST, NO_KEYS, auth, 'Authenticate (user default)', { support: 'partial', note: 'only the user default (no ACL users)' }));
  t.add(cmd('hello', -1, CMD_NO_AUTH | CMD_FAST, NO_KEYS, hello, 'Handshake: RESP2/RESP3, AUTH, SETNAME', { support: 'partial', note: 'mode is cluster and version is the node\'s' }));
  t.add(cmd('select', 2, CMD_FAST, NO_KEYS, select, 'Only database 0 exists', { support: 'partial', note: 'only database 0' }));
  t.add(cmd('client', -2, CMD_ADMIN, NO_KEYS, client, 'CLIENT SETNAME/GETNAME/ID/SETINFO/INFO/LIST/REPLY/NO-EVICT/HELP', {
    subcommands: CLIENT_SUBCOMMANDS, support: 'partial',
    note: 'SETNAME GETNAME ID SETINFO INFO LIST KILL REPLY NO-EVICT HELP; PAUSE, TRACKING and the rest are refused; LIST/INFO memory fields are estimates',
  }));
  t.add(cmd('reset', 1, CMD_NO_AUTH | CMD_FAST, NO_KEYS, reset, 'Reset the connection (transaction, WATCH, CLIENT REPLY, name, protocol)', {
    support: 'partial', note: 'with --requirepass the connection must authenticate again (as with a password on the default user)',
  }));
  t.add(cmd('role', 1, CMD_FAST, NO_KEYS, role, 'The replication role: always master without Redis replicas', { support: 'partial', note: 'partition copies are not shown' }));
  t.add(cmd('readonly', 1, CMD_FAST, NO_KEYS, readonly, 'Accept reads from replicas', { support: 'partial', note: 'accepted; reads of backup partitions are still redirected to the primary' }));
  t.add(cmd('readwrite', 1, CMD_FAST, NO_KEYS, readwrite, 'Reads from primaries only'));
  t.add(cmd('asking', 1, CMD_FAST, NO_KEYS, asking, 'The next command may touch a slot being imported'));
}

export { ERR_NOAUTH };
