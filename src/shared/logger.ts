import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'. */
  level?: string;
  /** Component name, shown as `name` in every line. */
  name?: string;
  /** Human-readable output (pino-pretty) instead of JSON lines; default: when stdout is a terminal. */
  pretty?: boolean;
}

/** A pino logger writing JSON lines to stdout, or pretty lines on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['RINGLEADER_LOG_LEVEL'] ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({ level, name: options.name, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino({ level, name: options.name });
}

/** A logger that drops everything: the default for library code and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
