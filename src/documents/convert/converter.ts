/**
 * Runs conversions off the event loop in worker threads: at most `maxConcurrent` at once, each
 * bounded by `timeoutMs` (the worker is terminated and a fresh one started for the next file)
 * and by a heap limit. A worker is kept for the next file and ended after `idleMs` without work.
 * A worker that dies (out of memory, a crash in a library) makes a `failed` conversion, never a
 * server crash.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ConvertLimits } from './converted.js';
import type { DocumentFormat } from './formats.js';
import type { WorkerAnswer } from './worker-protocol.js';

export interface ConverterOptions {
  /** `DOCUMENT_CONVERSION_TIMEOUT_S` × 1000; default 60 s. */
  timeoutMs?: number;
  /** Heap of one worker; default 512 MB. */
  maxHeapMb?: number;
  /** Workers converting at once; default 1. */
  maxConcurrent?: number;
  /** How long an idle worker is kept; default 30 s. */
  idleMs?: number;
  limits?: Partial<ConvertLimits>;
}

export const DEFAULT_CONVERT_LIMITS: ConvertLimits = { maxPages: 2000, maxChars: 5_000_000, maxRows: 10_000 };
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Converts files in worker threads; `convert` never throws for a bad file, it answers `ok: false`. */
export class DocumentConverter {
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly idleMs: number;
  readonly limits: ConvertLimits;
  /** Workers free for the next file, with the timer that ends them. */
  private readonly idle: Array<{ worker: Worker; timer: NodeJS.Timeout }> = [];
  private readonly all = new Set<Worker>();
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(options: ConverterOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxHeapMb = options.maxHeapMb ?? 512;
    this.idleMs = options.idleMs ?? 30_000;
    this.free = options.maxConcurrent ?? 1;
    this.limits = { ...DEFAULT_CONVERT_LIMITS, ...options.limits };
  }

  async convert(path: string, format: DocumentFormat): Promise<WorkerAnswer> {
    if (this.free === 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.free -= 1;
    try {
      if (this.closed) return { ok: false, status: 'failed', error: 'The server is shutting down.' };
      return await this.runOn(this.takeWorker(), path, format);
    } finally {
      this.free += 1;
      this.waiting.shift()?.();
    }
  }

  /** Terminates every worker (running conversions answer `failed`). */
  async close(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.idle.splice(0)) clearTimeout(timer);
    await Promise.all([...this.all].map((w) => w.terminate()));
  }

  private takeWorker(): Worker {
    const kept = this.idle.pop();
    if (kept) {
      clearTimeout(kept.timer);
      return kept.worker;
    }
    const url = new URL(`./conversion-worker${RUNNING_FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);
    const execArgv = RUNNING_FROM_SOURCE ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
    const worker = new Worker(url, { execArgv, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb }, stdout: true, stderr: true });
    // PDF.js warns on stderr about fonts and broken objects; nothing of it is for the operator.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    this.all.add(worker);
    worker.once('exit', () => this.all.delete(worker));
    return worker;
  }

  private keep(worker: Worker): void {
    if (this.closed) {
      void worker.terminate();
      return;
    }
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((w) => w.worker === worker);
      if (at >= 0) this.idle.splice(at, 1);
      void worker.terminate();
    }, this.idleMs);
    timer.unref();
    this.idle.push({ worker, timer });
  }

  private runOn(worker: Worker, path: string, format: DocumentFormat): Promise<WorkerAnswer> {
    return new Promise<WorkerAnswer>((resolve) => {
      const finish = (answer: WorkerAnswer, reusable: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (reusable) this.keep(worker);
        else void worker.terminate();
        resolve(answer);
      };
      const onMessage = (answer: WorkerAnswer) => finish(answer, true);
      const onError = (err: Error) => {
        const oom = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish({ ok: false, status: 'failed', error: oom ? 'Converting the file needed more memory than allowed; it was stopped.' : `Conversion failed (${err.message.slice(0, 200)}).` }, false);
      };
      const onExit = () => finish({ ok: false, status: 'failed', error: 'Conversion stopped without an answer.' }, false);
      const timer = setTimeout(
        () => finish({ ok: false, status: 'failed', error: `Converting the file took longer than ${Math.round(this.timeoutMs / 1000)} s; it was stopped.` }, false),
        this.timeoutMs,
      );
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage({ path, format, limits: this.limits });
    });
  }
}
