/**
 * Several Pulp servers on one PostgreSQL: builds the cluster pair the chat service plugs in (the
 * coordinator and the event bus) over three connections of this server's own — the lock holder,
 * the event writer and the listener.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ConnectionRegistry } from '../chat/connections.js';
import type { ChatEventBus } from '../chat/event-bus.js';
import type { ServerEvent } from '../chat/events.js';
import type { TurnCoordinator } from '../chat/turn-coordinator.js';
import type { Database } from '../db/database.js';
import { ClusterEventBus } from './cluster-bus.js';
import { ClusterTurnCoordinator } from './cluster-coordinator.js';
import { DedicatedConnection } from './dedicated-connection.js';
import { lockConnectionName, SessionLocks } from './session-locks.js';

/** Connections a server opens besides its pool (say so when sizing max_connections). */
export const DEDICATED_CONNECTIONS = 3;

export interface ClusterOptions {
  url: string;
  db: Database;
  logger: Logger;
  /** DB_POOL_MAX: with the dedicated connections, what this server may open. */
  poolMax: number;
}

/**
 * Warns when PostgreSQL's `max_connections` cannot hold even this server's connections (its pool
 * and the dedicated ones), and says what to change. Returns the figures (for tests and logs).
 */
export async function checkConnectionBudget(db: Database, poolMax: number, logger: Logger): Promise<{ max: number; needed: number }> {
  const { rows } = await db.query<{ max_connections: string }>('SHOW max_connections');
  const max = Number(rows[0]?.max_connections ?? 0);
  const needed = poolMax + DEDICATED_CONNECTIONS;
  if (max > 0 && needed > max) {
    logger.warn(
      { max_connections: max, needed, db_pool_max: poolMax },
      `PostgreSQL max_connections (${max}) is smaller than this server alone needs (DB_POOL_MAX ${poolMax} + ${DEDICATED_CONNECTIONS} = ${needed}); ` +
        `raise max_connections to at least servers × ${needed} plus other clients, or lower DB_POOL_MAX`,
    );
  } else {
    logger.info({ max_connections: max, per_server: needed }, `each server needs DB_POOL_MAX + ${DEDICATED_CONNECTIONS} = ${needed} connections; max_connections ${max} fits ${Math.floor(max / needed)} servers`);
  }
  return { max, needed };
}

export interface Cluster {
  serverId: string;
  /** For /health. */
  health(): { enabled: true; server_id: string; listening: boolean };
  /** For ChatDeps.distribution. */
  distribution(registry: ConnectionRegistry): { coordinator: TurnCoordinator; events: ChatEventBus };
  /** Connects and starts the sweeper; call after `distribution`. */
  start(): Promise<void>;
}

export function newServerId(): string {
  return `${hostname().slice(0, 24)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function createCluster(options: ClusterOptions): Cluster {
  const serverId = newServerId();
  const logger = options.logger.child({ server_id: serverId });
  let coordinator: ClusterTurnCoordinator | undefined;
  let bus: ClusterEventBus | undefined;
  const lockConnection = new DedicatedConnection({
    url: options.url,
    name: lockConnectionName(serverId),
    logger,
    onLost: () => coordinator?.onLocksLost(),
  });

  return {
    serverId,
    health: () => ({ enabled: true, server_id: serverId, listening: bus?.listening ?? false }),
    distribution(registry) {
      const b = new ClusterEventBus({
        url: options.url,
        serverId,
        db: options.db,
        registry,
        logger,
        onControl: (control) => coordinator?.onControl(control),
      });
      const c = new ClusterTurnCoordinator({
        serverId,
        db: options.db,
        bus: b,
        locks: new SessionLocks(lockConnection),
        logger,
      });
      bus = b;
      coordinator = c;
      const events: ChatEventBus = {
        publish: (sessionUuid: string, event: ServerEvent) => b.publish(sessionUuid, event),
        replay: (sessionUuid, turnId, afterSeq) => b.replay(sessionUuid, turnId, afterSeq),
        // Called after the coordinator's shutdown: the ends of the last turns are sent first.
        close: async () => {
          await b.close();
          await lockConnection.close();
        },
      };
      return { coordinator: c, events };
    },
    async start() {
      if (!bus || !coordinator) throw new Error('cluster.start() before distribution()');
      await checkConnectionBudget(options.db, options.poolMax, logger).catch((err: unknown) => {
        logger.warn({ err: { message: (err as Error).message } }, 'reading max_connections failed');
      });
      await bus.start();
      await lockConnection.client();
      await coordinator.open();
      logger.info('cluster mode: turns and events are shared through PostgreSQL');
    },
  };
}
