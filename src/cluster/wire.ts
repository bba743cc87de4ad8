/**
 * What servers tell each other through NOTIFY: one channel, payloads of text lines, each under
 * PostgreSQL's 8000-byte limit. A payload is a header line and then, in order:
 *   `e <session uuid> <event JSON>`        an event, inline
 *   `r <session uuid> <turn id> <seq>`     an event too big to inline: read it from turn_events
 *   `c <control JSON>`                     interrupt / started / ended / user_disabled
 * Event JSON never contains a raw newline (JSON.stringify escapes it), so lines split safely and
 * the event's text is forwarded to sockets as it came, without parsing and serializing again.
 */
export const CHANNEL = 'pulp_cluster';
/** NOTIFY payloads must be shorter than 8000 bytes; leave room for the header. */
export const MAX_PAYLOAD_BYTES = 7_900;
const VERSION = 'P1';

export type Control =
  /** Stop `turn` of session `s` (only that turn: a late request must not stop the session's next one). */
  | { t: 'interrupt'; s: string; turn: string; reason: 'user' | 'new_message' }
  | { t: 'started'; s: string; turn: string }
  | { t: 'ended'; s: string; turn: string }
  /** A user was disabled or deleted: every server closes that user's sockets. */
  | { t: 'user_disabled'; u: string };

export type WireLine =
  | { kind: 'event'; sessionUuid: string; data: string }
  | { kind: 'ref'; sessionUuid: string; turnId: string; seq: number }
  | { kind: 'control'; control: Control };

export function eventLine(sessionUuid: string, data: string): string {
  return `e ${sessionUuid} ${data}`;
}

export function refLine(sessionUuid: string, turnId: string, seq: number): string {
  return `r ${sessionUuid} ${turnId} ${seq}`;
}

export function controlLine(control: Control): string {
  return `c ${JSON.stringify(control)}`;
}

/**
 * Packs lines into as few payloads as fit, in order. `n` numbers the payloads so two with the same
 * lines are never merged by NOTIFY's de-duplication. A line that alone is too big is returned in
 * `tooBig` (the caller sends a reference instead, or drops it).
 */
export function packPayloads(origin: string, firstNumber: number, lines: readonly string[]): { payloads: string[]; tooBig: number[] } {
  const payloads: string[] = [];
  const tooBig: number[] = [];
  let n = firstNumber;
  let current: string[] = [];
  let size = 0;
  const header = () => `${VERSION} ${origin} ${n}`;
  const flush = () => {
    if (current.length === 0) return;
    payloads.push([header(), ...current].join('\n'));
    n += 1;
    current = [];
    size = 0;
  };
  const budget = MAX_PAYLOAD_BYTES - Buffer.byteLength(header()) - 16;
  lines.forEach((line, i) => {
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > budget) {
      tooBig.push(i);
      return;
    }
    if (size + bytes > budget) flush();
    current.push(line);
    size += bytes;
  });
  flush();
  return { payloads, tooBig };
}

/** True when the payload was sent by `origin` (a server skips its own). */
export function isFrom(payload: string, origin: string): boolean {
  return payload.startsWith(`${VERSION} ${origin} `);
}

/** Reads a payload; lines it does not understand are skipped (a newer server may add kinds). */
export function parsePayload(payload: string): WireLine[] {
  const lines = payload.split('\n');
  if (!lines[0]?.startsWith(`${VERSION} `)) return [];
  const out: WireLine[] = [];
  for (const line of lines.slice(1)) {
    const kind = line[0];
    if (kind === 'e') {
      const sessionUuid = line.slice(2, 38);
      out.push({ kind: 'event', sessionUuid, data: line.slice(39) });
    } else if (kind === 'r') {
      const [, sessionUuid, turnId, seq] = line.split(' ');
      if (sessionUuid && turnId && seq) out.push({ kind: 'ref', sessionUuid, turnId, seq: Number(seq) });
    } else if (kind === 'c') {
      try {
        out.push({ kind: 'control', control: JSON.parse(line.slice(2)) as Control });
      } catch {
        // A malformed control line is ignored; the sender logs its own failures.
      }
    }
  }
  return out;
}
