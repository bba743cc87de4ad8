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
import { LOCK_CONNECTION_PREFIX, lockConnectionName, SessionLocks } from './session-locks.js';

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
 * Warns when PostgreSQL's `max_connections` cannot hold this server's connections (its pool and the
 * dedicated ones) beside those of the Pulp servers already running on the database (counted by
 * their lock connections, each assumed to use the same DB_POOL_MAX), and says what to change.
 * Returns the figures (for tests and logs).
 */
export async function checkConnectionBudget(db: Database, poolMax: number, logger: Logger): Promise<{ max: number; needed: number; servers: number }> {
  const { rows } = await db.query<{ max_connections: string }>('SHOW max_connections');
  const max = Number(rows[0]?.max_connections ?? 0);
  const { rows: others } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1', [`${LOCK_CONNECTION_PREFIX}%`]);
  const servers = Number(others[0]?.n ?? 0) + 1;
  const perServer = poolMax + DEDICATED_CONNECTIONS;
  const needed = servers * perServer;
  const figures = { max_connections: max, needed, servers, db_pool_max: poolMax };
  if (max > 0 && needed > max) {
    logger.warn(
      figures,
      `PostgreSQL max_connections (${max}) is smaller than ${servers === 1 ? 'this server alone needs' : `${servers} Pulp servers need`} ` +
        `(${servers} × (DB_POOL_MAX ${poolMax} + ${DEDICATED_CONNECTIONS}) = ${needed}); servers may fail to start or to get connections ("too many clients already"). ` +
        `Raise max_connections to at least servers × ${perServer} plus other clients, or lower DB_POOL_MAX`,
    );
  } else {
    logger.info(figures, `each server needs DB_POOL_MAX + ${DEDICATED_CONNECTIONS} = ${perServer} connections; max_connections ${max} fits ${Math.floor(max / perServer)} servers, ${servers} running with this one`);
  }
  return { max, needed, servers };
}

export interface Cluster {
  serverId: string;
  /** For /health. */
  health(): { enabled: true; server_id: string; listening: boolean };
  /** For ChatDeps.distribution. */
  distribution(registry: ConnectionRegistry): { coordinator: TurnCoordinator; events: ChatEventBus };
  /** Connects and starts the sweeper; call after `distribution`. */
  start(): Promise<void>;
  /** Tells the other servers that a user lost access (disabled or deleted). */
  announceUserDisabled(userId: string): void;
  /** Calls `listener` when another server announces a user lost access. */
  onUserDisabled(listener: (userId: string) => void): void;
}

export function newServerId(): string {
  return `${hostname().slice(0, 24)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function createCluster(options: ClusterOptions): Cluster {
  const serverId = newServerId();
  const logger = options.logger.child({ server_id: serverId });
  let coordinator: ClusterTurnCoordinator | undefined;
  let bus: ClusterEventBus | undefined;
  const disabledListeners: Array<(userId: string) => void> = [];
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
        onControl: (control) => {
          if (control.t === 'user_disabled') for (const listener of disabledListeners) listener(control.u);
          else coordinator?.onControl(control);
        },
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
    announceUserDisabled(userId) {
      bus?.control({ t: 'user_disabled', u: userId });
    },
    onUserDisabled(listener) {
      disabledListeners.push(listener);
    },
  };
}
