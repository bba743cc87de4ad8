/** pino loggers: JSON lines by default, `pretty` for humans; secrets are redacted by path. */
import pino, { type DestinationStream, type Logger } from 'pino';

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'password',
  'access_token',
  'refresh_token',
  '*.password',
  '*.apiKey',
  '*.api_key',
];

/** `destination` is for tests; the server logs JSON lines to stdout. */
export function createLogger(options: { level: string; format: 'json' | 'pretty' }, destination?: DestinationStream): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'pulp' },
    ...(options.format === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  };
  return destination ? pino(settings, destination) : pino(settings);
}
