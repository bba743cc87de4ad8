/** What a model call is recorded as: who it is for, and the token counts its provider reported. */

export const CALL_PURPOSES = ['turn', 'summary', 'title', 'embedding'] as const;
export type CallPurpose = (typeof CALL_PURPOSES)[number];

/** Who a model call is for: the ledger row's user, session and turn, and why it was made. */
export interface ModelCall {
  userId: string;
  /** The session's uuid; null for a call outside any session. */
  sessionUuid: string | null;
  /** The turn that made the call; null for a summary asked over REST. */
  turnId: string | null;
  purpose: CallPurpose;
}

/** Token counts as the provider reported them (cached ⊆ input, reasoning ⊆ output, as OpenAI counts). */
export interface ReportedUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

type Json = Record<string, unknown>;
const asRecord = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null ? (v as Json) : undefined);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** One detail (`cached_tokens`, `reasoning_tokens`) from the SDK's object or per-request array form. */
function detail(details: unknown, key: string): number {
  if (Array.isArray(details)) return details.reduce<number>((sum, d) => sum + count(asRecord(d)?.[key]), 0);
  return count(asRecord(details)?.[key]);
}

/**
 * The counts of a model response's `usage`, in either shape the Agents SDK gives it: the plain
 * object of a streamed `response_done` or a `Usage` (details as arrays). Missing numbers are 0.
 */
export function reportedUsage(usage: unknown): ReportedUsage {
  const u = asRecord(usage);
  return {
    inputTokens: count(u?.inputTokens),
    cachedInputTokens: detail(u?.inputTokensDetails, 'cached_tokens'),
    outputTokens: count(u?.outputTokens),
    reasoningTokens: detail(u?.outputTokensDetails, 'reasoning_tokens'),
  };
}
