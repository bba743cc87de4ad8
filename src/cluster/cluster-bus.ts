/**
 * The event bus of several servers. `publish` sends to this server's connections at once and
 * queues the event; a writer sends the queue in batches on a connection of its own — one statement
 * per batch that appends the turn events to `turn_events` (the log `resume` reads) and NOTIFYs
 * them to the other servers in the same transaction, so a notified event is always readable.
 * A listener connection receives the other servers' batches and hands them to local connections
 * and control messages to the coordinator.
 */
import type { Logger } from 'pino';
import type { ConnectionRegistry } from '../chat/connections.js';
import type { ChatEventBus } from '../chat/event-bus.js';
import type { ServerEvent } from '../chat/events.js';
import type { Database } from '../db/database.js';
import { SerialQueue } from '../util/serial-queue.js';
import { DedicatedConnection } from './dedicated-connection.js';
import { CHANNEL, controlLine, eventLine, isFrom, packPayloads, parsePayload, refLine, type Control } from './wire.js';

const WRITE_SQL = `
WITH logged AS (
  INSERT INTO turn_events (session_id, turn_id, seq, type, event)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[])
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM logged) AS logged, (SELECT count(pg_notify('${CHANNEL}', p)) FROM unnest($6::text[]) AS p) AS notified`;

interface Pending {
  /** What the other servers are notified of; undefined for an event only logged. */
  line: string | undefined;
  /** Set for turn events: they go to the log too. */
  turn?: { sessionUuid: string; turnId: string; seq: number; type: string; data: string };
}

export interface ClusterBusOptions {
  url: string;
  serverId: string;
  db: Database;
  registry: ConnectionRegistry;
  logger: Logger;
  onControl: (control: Control) => void;
}

export class ClusterEventBus implements ChatEventBus {
  readonly #writer: DedicatedConnection;
  readonly #listener: DedicatedConnection;
  #pending: Pending[] = [];
  #enqueued = 0;
  #written = 0;
  #writing = false;
  #scheduled = false;
  #payloadNumber = 0;
  #syncWaiters: Array<{ mark: number; resolve: () => void }> = [];
  /** Inbound payloads that must wait for one before them (a log read). */
  readonly #inbound = new SerialQueue();
  #closed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelay = 100;
  /** Set while writes fail, so an outage is logged once, not once per batch. */
  #failing = false;
  readonly #log: Logger;

  constructor(private readonly options: ClusterBusOptions) {
    this.#log = options.logger.child({ module: 'cluster-bus' });
    this.#writer = new DedicatedConnection({
      url: options.url,
      name: `pulp-writer-${options.serverId}`,
      logger: this.#log,
      // The log is short-lived and unlogged: a batch need not wait for a WAL flush to be sent.
      onConnect: async (client) => {
        await client.query('SET synchronous_commit TO off');
      },
    });
    this.#listener = new DedicatedConnection({
      url: options.url,
      name: `pulp-listener-${options.serverId}`,
      logger: this.#log,
      onConnect: async (client) => {
        client.on('notification', (msg) => {
          if (msg.channel === CHANNEL && msg.payload !== undefined) this.#receive(msg.payload);
        });
        await client.query(`LISTEN ${CHANNEL}`);
      },
      onLost: () => this.#scheduleReconnect(),
    });
  }

  /** False while the listener is reconnecting (events of other servers are missed meanwhile). */
  get listening(): boolean {
    return this.#listener.connected;
  }

  /** Connects the listener (events sent before it listens are not received). */
  async start(): Promise<void> {
    await this.#listener.client();
    await this.#writer.client();
  }

  publish(sessionUuid: string, event: ServerEvent): void {
    const data = JSON.stringify(event);
    this.options.registry.deliver(sessionUuid, event, data);
    if (this.#closed) return;
    const line = eventLine(sessionUuid, data);
    if (event.turn_id !== undefined && event.seq !== undefined) {
      this.#enqueue({ line, turn: { sessionUuid, turnId: event.turn_id, seq: event.seq, type: event.type, data } });
    } else {
      this.#enqueue({ line });
    }
  }

  /**
   * Writes a turn event to the log only: no connection, here or on another server, hears it live;
   * a `resume` naming its turn reads it in order with the rest.
   */
  record(sessionUuid: string, event: ServerEvent & { turn_id: string; seq: number }): void {
    if (this.#closed) return;
    const data = JSON.stringify(event);
    this.#enqueue({ line: undefined, turn: { sessionUuid, turnId: event.turn_id, seq: event.seq, type: event.type, data } });
  }

  /** Sends a control message to the other servers, in order with the events. */
  control(control: Control): void {
    if (!this.#closed) this.#enqueue({ line: controlLine(control) });
  }

  /** Resolves when everything published so far is in the log and notified (or failed to be). */
  sync(): Promise<void> {
    const mark = this.#enqueued;
    if (this.#written >= mark) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push({ mark, resolve }));
  }

  /**
   * Resolves once every notification committed before this call has been handed to local
   * connections: PostgreSQL sends a listener's pending notifications before the answer to its
   * next statement. A turn that takes over a session calls it so its first event cannot overtake
   * the end of the previous turn on this server's connections.
   */
  async catchUp(): Promise<void> {
    await this.#listener.query('SELECT 1');
    await this.#inbound.idle();
  }

  async replay(sessionUuid: string, turnId: string, afterSeq: number): Promise<ServerEvent[] | undefined> {
    await this.sync();
    // The row at after_seq itself proves the turn is known (a client at 0 needs any row); the end
    // row is read too, for the one case below.
    const { rows } = await this.options.db.query<{ seq: number; type: string; event: string }>(
      `SELECT seq, type, event FROM turn_events WHERE session_id = $1 AND turn_id = $2 AND (seq >= $3 OR type = 'assistant_end') ORDER BY seq`,
      [sessionUuid, turnId, afterSeq],
    );
    const end = rows.find((r) => r.type === 'assistant_end');
    if (end && end.seq <= afterSeq) {
      // A server died after sending this client events it never logged, and another server ended
      // the turn with seqs the client already holds: the client still needs to hear the end.
      return [{ ...(JSON.parse(end.event) as ServerEvent), seq: afterSeq + 1 }];
    }
    if (rows.length === 0) return undefined;
    if (afterSeq > 0 && rows[0]?.seq !== afterSeq) return undefined;
    return rows.filter((r) => r.seq > afterSeq).map((r) => JSON.parse(r.event) as ServerEvent);
  }

  async close(): Promise<void> {
    await this.sync();
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    await Promise.all([this.#writer.close(), this.#listener.close()]);
    await this.#inbound.idle();
  }

  #enqueue(p: Pending): void {
    this.#pending.push(p);
    this.#enqueued += 1;
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    // One tick of batching: every event published in this turn of the loop goes in one statement.
    setImmediate(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    this.#scheduled = false;
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#write(batch);
        this.#written += batch.length;
        this.#wakeSyncWaiters();
      }
    } finally {
      this.#writing = false;
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    const notified = batch.filter((p) => p.line !== undefined);
    const lines = notified.map((p) => p.line ?? '');
    let packed = packPayloads(this.options.serverId, this.#payloadNumber, lines);
    if (packed.tooBig.length > 0) {
      for (const i of packed.tooBig) {
        const turn = notified[i]?.turn;
        // Session events are small (a title); one that is not cannot be referenced and is dropped.
        lines[i] = turn ? refLine(turn.sessionUuid, turn.turnId, turn.seq) : '';
        if (!turn) this.#log.warn('a session event too large for NOTIFY was not sent to other servers');
      }
      packed = packPayloads(this.options.serverId, this.#payloadNumber, lines.filter((l) => l !== ''));
    }
    this.#payloadNumber += packed.payloads.length;
    const turns = batch.flatMap((p) => (p.turn ? [p.turn] : []));
    const params = [
      turns.map((t) => t.sessionUuid),
      turns.map((t) => t.turnId),
      turns.map((t) => t.seq),
      turns.map((t) => t.type),
      turns.map((t) => t.data),
      packed.payloads,
    ];
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await this.#writer.query(WRITE_SQL, params);
        if (this.#failing) this.#log.info('sending events to other servers works again');
        this.#failing = false;
        return;
      } catch (err) {
        if (this.#closed) return;
        if (attempt === 2 && !this.#failing) {
          this.#failing = true;
          this.#log.error({ err: { message: (err as Error).message }, events: batch.length }, 'sending events to other servers failed; they miss them until the database answers');
        }
      }
    }
  }

  #wakeSyncWaiters(): void {
    const ready = this.#syncWaiters.filter((w) => w.mark <= this.#written);
    if (ready.length === 0) return;
    this.#syncWaiters = this.#syncWaiters.filter((w) => w.mark > this.#written);
    for (const w of ready) w.resolve();
  }

  #receive(payload: string): void {
    if (isFrom(payload, this.options.serverId)) return;
    const lines = parsePayload(payload);
    // Payloads are handled in arrival order; one that must read the log makes later ones wait.
    if (this.#inbound.pending > 0 || lines.some((l) => l.kind === 'ref')) {
      void this.#inbound.run(() => this.#handle(lines));
      return;
    }
    void this.#handle(lines);
  }

  async #handle(lines: ReturnType<typeof parsePayload>): Promise<void> {
    const registry = this.options.registry;
    for (const line of lines) {
      try {
        if (line.kind === 'control') {
          this.options.onControl(line.control);
        } else if (registry.countFor(line.sessionUuid) === 0) {
          continue;
        } else if (line.kind === 'event') {
          registry.deliver(line.sessionUuid, JSON.parse(line.data) as ServerEvent, line.data);
        } else {
          const { rows } = await this.options.db.query<{ data: string }>('SELECT event AS data FROM turn_events WHERE turn_id = $1 AND seq = $2', [
            line.turnId,
            line.seq,
          ]);
          const data = rows[0]?.data;
          if (data !== undefined) registry.deliver(line.sessionUuid, JSON.parse(data) as ServerEvent, data);
        }
      } catch (err) {
        this.#log.warn({ err: { message: (err as Error).message } }, 'handling an event from another server failed');
      }
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#listener.client().then(
        () => {
          this.#reconnectDelay = 100;
        },
        () => {
          this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, 2_000);
          this.#scheduleReconnect();
        },
      );
    }, this.#reconnectDelay).unref();
  }
}
