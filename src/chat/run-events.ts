/**
 * A run's events held back until the user's words are saved: a turn may start its model call
 * before the save ends (`openTurn`), but says and writes nothing of its answer till then.
 */
import type { RunStreamEvent } from '@openai/agents';

/**
 * Reads a run's events as they come (a run that fails drops the events not read yet) and hands
 * them on once `saved` resolves. A save that fails stops the run and is thrown; otherwise a reading
 * that failed is, once what came before its failure was handed on.
 */
export async function handleOnceSaved(
  events: AsyncIterable<RunStreamEvent>,
  saved: Promise<unknown>,
  run: { handle: (event: RunStreamEvent) => void; stop: () => void; cancelled: () => boolean },
): Promise<void> {
  const early: RunStreamEvent[] = [];
  let ready = false;
  const handedOn = saved.then(
    () => {
      ready = true;
      for (const event of early.splice(0)) run.handle(event);
    },
    (err: unknown) => {
      run.stop();
      throw err;
    },
  );
  const reading = (async () => {
    for await (const event of events) {
      if (ready) run.handle(event);
      else early.push(event);
      if (run.cancelled()) break;
    }
  })();
  const [read] = await Promise.allSettled([reading, handedOn]);
  await handedOn;
  if (read.status === 'rejected') throw read.reason;
}
