/**
 * A conversion worker thread: converts the files it is sent, one at a time, posting a
 * `WorkerAnswer` for each. The parent bounds each job by time (it terminates the worker and
 * starts another) and the worker by heap (`resourceLimits`).
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { ConversionFailure } from './conversion-failure.js';
import { convertBytes } from './convert.js';
import type { WorkerAnswer, WorkerJob } from './worker-protocol.js';

async function run(job: WorkerJob): Promise<WorkerAnswer> {
  try {
    const bytes = new Uint8Array(await readFile(job.path));
    const converted = await convertBytes(bytes, job.format, job.limits);
    if (converted.text.trim() === '') return { ok: false, status: 'no_text', error: 'The file holds no text.' };
    return { ok: true, ...converted };
  } catch (err) {
    if (err instanceof ConversionFailure) return { ok: false, status: err.status, error: err.message };
    return { ok: false, status: 'failed', error: `The file could not be converted (${err instanceof Error ? err.message.slice(0, 300) : String(err)}).` };
  }
}

parentPort?.on('message', (job: WorkerJob) => {
  void run(job).then((answer) => parentPort?.postMessage(answer));
});
