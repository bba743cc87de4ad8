/**
 * Per-user fair shares, framework-free: turns running at once, chat messages a minute and REST
 * writes a minute. A limit of 0 is off. The rates count on the shared store (one count for the
 * whole cluster); running turns are counted where they are recorded (see `runningSessions`).
 */
import { AppError } from '../errors/app-error.js';
import type { RateLimit, RateLimitStore } from './rate-limits.js';

export interface UserLimitSettings {
  /** `USER_MAX_CONCURRENT_TURNS`: turns one user may have running at once, across sessions. */
  maxConcurrentTurns: number;
  /** `USER_MESSAGES_PER_MIN`: `message` frames one user may send a minute. */
  messagesPerMin: number;
  /** `USER_WRITES_PER_MIN`: POST/PUT/PATCH/DELETE requests one user may make a minute. */
  writesPerMin: number;
}

export interface UserLimitsOptions {
  store: RateLimitStore;
  settings: UserLimitSettings;
  /** The sessions in which the user has a turn running, on any server (duplicates allowed). */
  runningSessions: (userId: string) => Promise<Iterable<string>>;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export class UserLimits {
  readonly #messages: RateLimit | undefined;
  readonly #writes: RateLimit | undefined;

  constructor(private readonly options: UserLimitsOptions) {
    const { messagesPerMin, writesPerMin } = options.settings;
    this.#messages =
      messagesPerMin > 0
        ? options.store.limit({
            name: 'user_messages',
            points: messagesPerMin,
            windowS: 60,
            refuse: (retryAfterS) =>
              new AppError(
                'QUOTA_3201',
                `Too many messages: the limit is ${plural(messagesPerMin, 'message', 'messages')} a minute. Your message was not sent; send it again in ${retryAfterS} s.`,
                undefined,
                { retryAfterS },
              ),
          })
        : undefined;
    this.#writes =
      writesPerMin > 0
        ? options.store.limit({
            name: 'user_writes',
            points: writesPerMin,
            windowS: 60,
            refuse: (retryAfterS) =>
              new AppError('QUOTA_3203', `Too many changes: the limit is ${writesPerMin} a minute. Nothing was changed; try again in ${retryAfterS} s.`, undefined, {
                retryAfterS,
              }),
          })
        : undefined;
  }

  get settings(): UserLimitSettings {
    return this.options.settings;
  }

  /**
   * Admits one chat message of `userId` in `sessionUuid`, or throws: `QUOTA_3202` when the user's
   * turns in other sessions are at the limit (a message in a session with a running turn replaces
   * that turn, so it never counts against itself), `QUOTA_3201` past the message rate.
   */
  async admitMessage(userId: string, sessionUuid: string): Promise<void> {
    const max = this.options.settings.maxConcurrentTurns;
    if (max > 0) {
      const others = new Set(await this.options.runningSessions(userId));
      others.delete(sessionUuid);
      if (others.size >= max) {
        this.options.store.countRefusal('user_turns');
        throw new AppError(
          'QUOTA_3202',
          `You already have ${plural(others.size, 'answer', 'answers')} running in other chats (the limit is ${max}). Your message was not sent: stop one or let it finish, then send it again.`,
        );
      }
    }
    await this.#messages?.hit(userId);
  }

  /** Admits one REST write (POST/PUT/PATCH/DELETE) of `userId`, or throws `QUOTA_3203`. */
  async admitWrite(userId: string): Promise<void> {
    await this.#writes?.hit(userId);
  }
}
