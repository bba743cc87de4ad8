/** Messages between the converter and its worker threads. */
import type { ConvertLimits } from './converted.js';
import type { DocumentFormat } from './formats.js';

export interface WorkerJob {
  path: string;
  format: DocumentFormat;
  limits: ConvertLimits;
}

export type WorkerAnswer =
  | { ok: true; text: string; pages?: number; truncated: boolean }
  | { ok: false; status: 'failed' | 'no_text' | 'unsupported'; error: string };
