/**
 * Wire errors: one registry of codes and HTTP statuses, and `AppError`, the only
 * error class whose message may reach a client. Anything else that escapes is logged and leaves
 * as a generic `INT_9001`.
 */

export const ERROR_CODES = {
  AUTH_1001: { status: 401, message: 'Authentication required.' },
  AUTH_1002: { status: 401, message: 'Invalid token.' },
  AUTH_1003: { status: 401, message: 'Token expired or already used.' },
  AUTH_1004: { status: 403, message: 'Forbidden.' },
  AUTH_1006: { status: 401, message: 'Invalid email or password.' },
  AUTH_1005: { status: 403, message: 'This account is disabled.' },
  AUTH_1007: { status: 429, message: 'Too many attempts; try again later.' },
  AUTH_1008: { status: 400, message: 'Single sign-on failed.' },
  AUTH_1010: { status: 403, message: 'Host not allowed.' },
  AUTH_1011: { status: 403, message: 'Origin not allowed.' },
  AUTH_1020: { status: 403, message: 'The tool call is not allowed.' },
  AUTH_1021: { status: 403, message: 'The tool call was denied.' },
  VAL_2001: { status: 422, message: 'The request is not valid.' },
  VAL_2002: { status: 400, message: 'The request body is not valid JSON.' },
  VAL_2003: { status: 413, message: 'The request body is too large.' },
  VAL_2004: { status: 415, message: 'Unsupported content type.' },
  VAL_2005: { status: 400, message: 'The request is malformed.' },
  VAL_2006: { status: 414, message: 'The URL is too long.' },
  VAL_2007: { status: 431, message: 'The request headers are too large.' },
  VAL_2010: { status: 422, message: 'parent_id is not a message of this chat.' },
  VAL_2011: { status: 422, message: 'The message to regenerate is not a message of this chat.' },
  VAL_2012: { status: 422, message: 'The message follows no question to answer again.' },
  VAL_2020: { status: 422, message: 'The search query is not valid.' },
  VAL_2021: { status: 422, message: 'The search cursor is not valid.' },
  VAL_2022: { status: 422, message: 'The preset cannot be used.' },
  VAL_2030: { status: 413, message: 'The import file is too large.' },
  VAL_2031: { status: 400, message: 'The import file is not JSON text in UTF-8.' },
  VAL_2032: { status: 422, message: 'The import file is in no format Pulp can import.' },
  VAL_2033: { status: 422, message: 'The import file is not valid.' },
  VAL_2034: { status: 422, message: 'The import file is over a limit.' },
  VAL_2035: { status: 400, message: 'The import request has no file.' },
  VAL_2050: { status: 422, message: 'The document search query is not valid.' },
  VAL_2060: { status: 422, message: 'The approval decision is not valid.' },
  VAL_2070: { status: 422, message: 'The model cannot see images.' },
  VAL_2071: { status: 422, message: 'An attached file does not exist.' },
  VAL_2072: { status: 413, message: 'An attached image is too large.' },
  VAL_2073: { status: 422, message: 'An attached image cannot be read.' },
  RES_3001: { status: 404, message: 'Not found.' },
  RES_3002: { status: 409, message: 'Already exists.' },
  RES_3004: { status: 409, message: 'Busy: a turn is running.' },
  RES_3005: { status: 405, message: 'Method not allowed.' },
  RES_3006: { status: 409, message: 'Conflict.' },
  RES_3010: { status: 404, message: 'Message not found.' },
  RES_3011: { status: 409, message: 'A turn is running in this chat; switch branches when it ends.' },
  RES_3020: { status: 404, message: 'Preset not found.' },
  RES_3021: { status: 409, message: 'Too many presets.' },
  RES_3022: { status: 409, message: 'A preset with this name exists.' },
  RES_3030: { status: 403, message: 'Sharing is turned off on this server.' },
  RES_3031: { status: 404, message: 'Share not found.' },
  RES_3032: { status: 409, message: 'Too many share links for this session.' },
  RES_3040: { status: 404, message: 'Library not found.' },
  RES_3041: { status: 404, message: 'Document not found.' },
  RES_3042: { status: 409, message: 'Too many libraries or documents.' },
  RES_3060: { status: 404, message: 'No such tool call waits for approval.' },
  RES_3061: { status: 409, message: 'The tool call was already decided.' },
  QUOTA_3101: { status: 429, message: 'The daily usage budget is used up.' },
  QUOTA_3102: { status: 429, message: 'The monthly usage budget is used up.' },
  QUOTA_3201: { status: 429, message: 'Too many messages; wait a moment.' },
  QUOTA_3202: { status: 429, message: 'Too many turns running at once.' },
  QUOTA_3203: { status: 429, message: 'Too many changes; wait a moment.' },
  SES_4001: { status: 404, message: 'Session not found.' },
  CTX_4101: { status: 413, message: 'The context is too large for the model.' },
  FILE_5001: { status: 404, message: 'File not found.' },
  FILE_5002: { status: 413, message: 'File too large.' },
  FILE_5004: { status: 400, message: 'Path refused.' },
  FILE_5010: { status: 409, message: 'The document is still being converted.' },
  FILE_5011: { status: 422, message: 'The document could not be converted to text.' },
  WS_6002: { status: 400, message: 'Bad frame.' },
  EXT_7001: { status: 502, message: 'Upstream error.' },
  EXT_7002: { status: 504, message: 'Upstream timeout.' },
  EXT_7003: { status: 429, message: 'Upstream rate limit.' },
  EXT_7010: { status: 502, message: 'Model provider error.' },
  EXT_7020: { status: 502, message: 'MCP server error.' },
  EXT_7040: { status: 502, message: 'The embeddings endpoint failed.' },
  DB_8001: { status: 500, message: 'Database error.' },
  DB_8002: { status: 503, message: 'Database unavailable.' },
  DB_8003: { status: 503, message: "The session's turn lock is not available; the message is saved, send again to continue." },
  INT_9001: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  field: string;
  message: string;
  code?: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds until the refused request may succeed (a limit): sent as `Retry-After`. */
  retryAfterS?: number;
}

/** An error meant for the client: its code decides the HTTP status, its message is shown as is. */
export class AppError extends Error {
  override name = this.constructor.name;
  readonly status: number;
  readonly retryAfterS: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetail[],
    options?: AppErrorOptions,
  ) {
    super(message ?? ERROR_CODES[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_CODES[code].status;
    this.retryAfterS = options?.retryAfterS;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
