import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/config';

export type { Logger };

/** pino's level names as operators know them, so log lines read `"level":"WARNING"`. */
const documentedNames: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/**
 * Structured JSON logs. Anything that could hold a token is redacted by path, and no code
 * logs a request URL with its query string (the token travels there), only its path.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: documentedNames[label] ?? label.toUpperCase() }) },
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'secret',
          '*.secret',
          'apiKey',
          '*.apiKey',
          'AI_API_KEY',
          '*.AI_API_KEY',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
