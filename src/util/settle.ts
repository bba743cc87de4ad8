/**
 * Waits for `p` to settle, at most `ms`; its failure is ignored. For work that should be given a
 * chance to finish (a stream's last events) without holding up what follows.
 */
export async function settle(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
