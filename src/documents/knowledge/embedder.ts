/**
 * Embeddings through the provider's OpenAI-compatible `POST {base}/embeddings` (OpenAI, Ollama,
 * vLLM…), with the chat model's base URL and key. Batches of `BATCH` inputs, each call bounded.
 */
export interface Embedding {
  vectors: Float32Array[];
  inputTokens: number;
}

export interface Embedder {
  readonly model: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Embedding>;
}

export class EmbeddingError extends Error {
  override name = this.constructor.name;
}

const BATCH = 64;
export const EMBEDDING_TIMEOUT_MS = 60_000;

interface EmbeddingResponse {
  data?: Array<{ index?: number; embedding?: unknown }>;
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

export class OpenAiEmbedder implements Embedder {
  constructor(private readonly options: { baseUrl: string; apiKey: string | undefined; model: string; timeoutMs?: number }) {}

  get model(): string {
    return this.options.model;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Embedding> {
    const vectors: Float32Array[] = [];
    let inputTokens = 0;
    for (let i = 0; i < texts.length; i += BATCH) {
      const batch = texts.slice(i, i + BATCH);
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? EMBEDDING_TIMEOUT_MS);
      const response = await fetch(`${this.options.baseUrl.replace(/\/$/, '')}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.options.model, input: batch }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      }).catch((err: unknown) => {
        throw new EmbeddingError(`the embeddings endpoint did not answer (${(err as Error).message})`, { cause: err });
      });
      if (!response.ok) throw new EmbeddingError(`the embeddings endpoint answered HTTP ${response.status}`);
      const body = (await response.json()) as EmbeddingResponse;
      const data = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      if (data.length !== batch.length) throw new EmbeddingError(`the embeddings endpoint returned ${data.length} vectors for ${batch.length} inputs`);
      for (const item of data) {
        if (!Array.isArray(item.embedding) || !item.embedding.every((x) => typeof x === 'number')) throw new EmbeddingError('the embeddings endpoint returned a vector that is not a list of numbers');
        vectors.push(normalize(Float32Array.from(item.embedding)));
      }
      inputTokens += body.usage?.prompt_tokens ?? body.usage?.total_tokens ?? 0;
    }
    return { vectors, inputTokens };
  }
}

/** Unit length, so cosine similarity is a dot product. */
export function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

export function toBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function fromBytes(b: Uint8Array): Float32Array {
  // Copied: a driver's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

export function dot(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i]! * b[i]!;
  return sum;
}
