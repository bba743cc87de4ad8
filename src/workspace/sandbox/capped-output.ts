/**
 * Collects a child's stdout or stderr up to a byte cap while always draining the pipe (so a chatty
 * process never blocks on a full pipe). Over the cap it keeps the head and the tail — a traceback
 * at the end of a flood of output is still shown — with a note of how much was cut between.
 */

export const OUTPUT_CAP_BYTES = 64 * 1024;
const TAIL_SHARE = 0.25;

export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private total = 0;
  private overflowed = false;
  private readonly headCap: number;
  private readonly tailCap: number;

  constructor(readonly cap = OUTPUT_CAP_BYTES) {
    // Room for the note is kept out of the cap so the text stays within it.
    const usable = Math.max(0, cap - 128);
    this.tailCap = Math.floor(usable * TAIL_SHARE);
    this.headCap = usable - this.tailCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (!this.overflowed) {
      if (this.total <= this.cap) {
        this.head.push(chunk);
        this.headBytes += chunk.length;
        return;
      }
      // First overflow: keep the head share, move the rest to the rolling tail.
      this.overflowed = true;
      const all = Buffer.concat([...this.head, chunk]);
      this.head.length = 0;
      this.head.push(all.subarray(0, this.headCap));
      this.headBytes = this.headCap;
      this.tail = all.subarray(Math.max(this.headCap, all.length - this.tailCap));
      return;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.subarray(Math.max(0, joined.length - this.tailCap));
  }

  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.cap;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return head;
    const cut = this.total - this.headBytes - this.tail.length;
    return `${head}\n[... ${cut} bytes of output cut (limit ${this.cap} bytes) ...]\n${this.tail.toString('utf8')}`;
  }
}
