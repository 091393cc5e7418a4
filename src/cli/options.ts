// Flag parsers shared by every subcommand. A bad flag is a UsageError: main.ts prints one line naming the flag and
// exits with code 2 (no stack trace, no log line). Lists take one syntax everywhere: comma-separated, repeatable
// (`--coordinator a,b` = `--coordinator a --coordinator b`).
import { readFileSync, statSync } from 'node:fs';
import { parseBytes } from '../storage/index.js';

/** A command-line mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const shown = (v: string): string => JSON.stringify(v);

/** A commander parser for an integer flag in [min, max]; the error names the flag. */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${shown(v)}`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${shown(v)}`);
    return n;
  };
}

/** A number flag in (min, max] when `exclusiveMin`, else [min, max]. */
export function numberOption(name: string, min: number, max: number, exclusiveMin = false): (v: string) => number {
  const range = `${exclusiveMin ? '(' : '['}${min}, ${max}]`;
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (exclusiveMin ? n <= min : n < min) || n > max) throw new UsageError(`${name} must be a number in ${range}, got ${shown(v)}`);
    return n;
  };
}

/** One of `choices`. */
export function choiceOption<T extends string>(name: string, choices: readonly T[]): (v: string) => T {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) throw new UsageError(`${name} must be one of ${choices.join(', ')}, got ${shown(v)}`);
    return v as T;
  };
}

/** A byte size such as 1048576, 512kb, 256mb, 2gb. */
export function bytesOption(name: string): (v: string) => number {
  return (v: string): number => {
    try {
      return parseBytes(v);
    } catch {
      throw new UsageError(`${name} must be a size such as 1048576, 512kb, 256mb or 2gb, got ${shown(v)}`);
    }
  };
}

/** A string matching `pattern` (names, zones). */
export function patternOption(name: string, pattern: RegExp, what: string, maxLength: number): (v: string) => string {
  return (v: string): string => {
    if (v.length > maxLength || !pattern.test(v)) throw new UsageError(`${name} must be ${what} (at most ${maxLength} characters), got ${shown(v)}`);
    return v;
  };
}

/** An http(s) URL (trailing slashes dropped). */
export function checkUrl(name: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`${name} must be an http:// or https:// URL, got ${shown(v)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${name} must be an http:// or https:// URL, got ${shown(v)}`);
  return v.replace(/\/+$/, '');
}

/**
 * A list flag: comma-separated and repeatable; each item checked by `item`. Commander calls it with the previous
 * value (undefined the first time: give no commander default, apply the default in the action with `?? [...]`).
 */
export function listOption<T>(name: string, item: (name: string, v: string) => T, maxItems = 64): (v: string, previous: T[] | undefined) => T[] {
  return (v: string, previous: T[] | undefined): T[] => {
    const parts = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (parts.length === 0) throw new UsageError(`${name} needs at least one value, got ${shown(v)}`);
    const all = [...(previous ?? []), ...parts.map((p) => item(name, p))];
    if (all.length > maxItems) throw new UsageError(`${name} takes at most ${maxItems} values`);
    return all;
  };
}

/** `--coordinator URL[,URL...]` (repeatable), the same on every subcommand. */
export const coordinatorsOption = listOption('--coordinator', checkUrl, 16);

export const DEFAULT_COORDINATOR_URL = 'http://127.0.0.1:8081';

/** The pino levels `--log-level` accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const logLevelOption = choiceOption('--log-level', LOG_LEVELS);

/**
 * Rewrites an options-resolver TypeError (naming `heartbeatMs`, `NodeOptions.port`...) into a UsageError naming the
 * flags, for checks that span several flags. `flags` maps option names to flag names.
 */
export function asUsageError(err: unknown, flags: Record<string, string>): Error {
  if (!(err instanceof TypeError)) return err as Error;
  let msg = err.message;
  for (const [option, flag] of Object.entries(flags).sort((a, b) => b[0].length - a[0].length)) msg = msg.replace(new RegExp(`\\b(?:[A-Z][A-Za-z]*Options\\.)?${option}\\b`, 'g'), flag);
  return new UsageError(msg);
}

/** A secret kept in a small regular file (trailing newline removed); a UsageError naming `from`, never the contents. */
function readSecretFile(from: string, file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new UsageError(`${from}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!st.isFile() || st.size > 8192) throw new UsageError(`${from}: not a regular file of at most 8 KiB`);
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

/**
 * The control-plane token: the contents of `file` (trailing newline removed), else the RINGLEADER_TOKEN environment
 * variable, else null. A UsageError naming the flag (never the token) when the file is unreadable or the token malformed.
 */
export function readToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  let token: string | undefined;
  let from: string;
  if (file !== undefined) {
    from = `--token-file ${file}`;
    token = readSecretFile(from, file);
  } else {
    from = 'RINGLEADER_TOKEN';
    token = env['RINGLEADER_TOKEN'];
    if (token === undefined || token === '') return null;
  }
  if (token.length === 0 || token.length > 4096 || !/^[\x21-\x7e]+$/.test(token)) throw new UsageError(`${from}: the token must be 1..4096 printable ASCII characters without spaces`);
  return token;
}

/**
 * The nodes' password for the coordinator's RESP connections to them (fencing before a failover): the contents of
 * `file` (trailing newline removed), else the RINGLEADER_NODE_PASSWORD environment variable, else '' (nodes without
 * --requirepass). A UsageError naming the flag (never the password) when the file is unreadable or the value unusable.
 */
export function readNodePassword(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let password: string;
  let from: string;
  if (file !== undefined) {
    from = `--node-password-file ${file}`;
    password = readSecretFile(from, file);
    if (password === '') throw new UsageError(`${from}: the file is empty`);
  } else {
    from = 'RINGLEADER_NODE_PASSWORD';
    password = env['RINGLEADER_NODE_PASSWORD'] ?? '';
  }
  if (password.length > 4096 || /[\r\n\0]/.test(password)) throw new UsageError(`${from}: the password must be at most 4096 characters on one line`);
  return password;
}
