/** pino loggers: JSON lines by default, `pretty` for humans; secrets are redacted by path. */
import pino, { type Logger } from 'pino';

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

export function createLogger(options: { level: string; format: 'json' | 'pretty' }): Logger {
  return pino({
    level: options.level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'pulp' },
    ...(options.format === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}
