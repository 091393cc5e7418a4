export { RingleaderError, isRingleaderError } from './errors.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.js';
export { TypedEvents } from './events.js';
