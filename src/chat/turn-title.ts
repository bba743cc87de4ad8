/** The title of a session after its first completed turn, asked of the hooks in the background. */
import type { Logger } from 'pino';
import type { SessionRow } from '../sessions/types.js';
import { firstExchange } from './first-exchange.js';
import type { FirstExchange } from './hooks.js';
import type { TurnDeps, TurnRequest } from './turn.js';

/** How long a background title may take. */
export const TITLE_TIMEOUT_MS = 60_000;

/** Asks the title hook in the background; a user's rename wins, even one made meanwhile. */
export function titleInBackground(deps: TurnDeps, req: TurnRequest, log: Logger, session: SessionRow): void {
  const exchange = (): Promise<FirstExchange> => firstExchange(deps.db, session.id);
  void (async () => {
    const title = await deps.hooks.title({ session, turnId: req.turnId }, exchange, AbortSignal.timeout(TITLE_TIMEOUT_MS));
    if (title === undefined) return;
    const updated = await deps.db.query<{ title: string }>('UPDATE sessions SET title = $2 WHERE id = $1 AND is_named = false RETURNING title', [session.id, title]);
    if (updated.rows[0]) deps.sink.publish(req.sessionUuid, { type: 'session_updated', title, session_id: req.sessionId });
  })().catch((err: unknown) => log.warn({ err }, 'title generation failed'));
}
