/**
 * One PostgreSQL connection of its own, outside the pool: LISTEN needs one that stays, session
 * advisory locks live exactly as long as the connection that took them, and batched event writes
 * keep their order on one. Statements run one after another; a lost connection is reported once
 * and replaced on the next use.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { SerialQueue } from '../util/serial-queue.js';

const CONNECT_TIMEOUT_MS = 2_000;
/** No statement here should take long; a silent socket must not hold the queue forever. */
const QUERY_TIMEOUT_MS = 10_000;
/** Closing waits this long for queued statements (shutdown must not hang on a dead database). */
const CLOSE_WAIT_MS = 3_000;

export interface DedicatedConnectionOptions {
  url: string;
  /** Shown in pg_stat_activity and logs. */
  name: string;
  logger: Logger;
  /** Runs on every new connection before any statement (e.g. LISTEN). */
  onConnect?: (client: pg.Client) => Promise<void>;
  /** The connection was lost (locks taken on it are gone). */
  onLost?: (err: Error) => void;
}

export class DedicatedConnection {
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  readonly #queue = new SerialQueue();
  #closed = false;

  constructor(private readonly options: DedicatedConnectionOptions) {}

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The live client, connecting first when needed. */
  client(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Runs one statement after the ones before it. */
  query<Row extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.#queue.run(async () => {
      const client = await this.client();
      const result = await client.query(sql, params);
      return result.rows as Row[];
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#queue.idle(), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: this.options.name,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    let lost = false;
    const onLost = (err: Error) => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => undefined);
      if (this.#closed) return;
      this.options.logger.warn({ err: { message: err.message }, connection: this.options.name }, 'dedicated database connection lost');
      this.options.onLost?.(err);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    await client.connect();
    try {
      await this.options.onConnect?.(client);
    } catch (err) {
      lost = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      lost = true;
      await client.end().catch(() => undefined);
      throw new Error('connection closed');
    }
    this.#client = client;
    return client;
  }
}
