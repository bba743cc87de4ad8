/**
 * Internal MCP error classes. None of these reach a client directly: the tool adapter turns them
 * into an `EXT_7020` tool result, and configuration errors stop startup with one clear line.
 */

/** The MCP configuration file is missing, unreadable or invalid. */
export class McpConfigError extends Error {
  override name = this.constructor.name;
  constructor(
    readonly file: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(file ? `Invalid MCP configuration (${file}): ${message}` : `Invalid MCP configuration: ${message}`, options);
  }
}

/** No instance of a server became free within the lease bound. */
export class McpLeaseTimeoutError extends Error {
  override name = this.constructor.name;
  constructor(
    readonly server: string,
    readonly timeoutMs: number,
  ) {
    super(`No instance of MCP server "${server}" became free within ${timeoutMs} ms.`);
  }
}

/** A tool call did not answer within the call bound. */
export class McpCallTimeoutError extends Error {
  override name = this.constructor.name;
  constructor(
    readonly server: string,
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(`MCP tool "${tool}" of server "${server}" did not answer within ${timeoutMs} ms.`);
  }
}

/** The server is unknown, disabled, or its pool is closed. */
export class McpUnavailableError extends Error {
  override name = this.constructor.name;
  constructor(
    readonly server: string,
    reason: string,
  ) {
    super(`MCP server "${server}" is unavailable: ${reason}.`);
  }
}

/** An instance could not be started (spawn failure, initialize failure, exit during start). */
export class McpStartError extends Error {
  override name = this.constructor.name;
  constructor(
    readonly server: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`MCP server "${server}" failed to start: ${message}`, options);
  }
}
