/** What a converter returns and the limits it works under. */
export interface Converted {
  /** Markdown or plain text. */
  text: string;
  /** Pages of a PDF (all of them, even when fewer were converted). */
  pages?: number;
  /** True when a limit cut the text short (a note at the end says so). */
  truncated: boolean;
}

export interface ConvertLimits {
  maxPages: number;
  maxChars: number;
  /** Rows per sheet of a spreadsheet. */
  maxRows: number;
}

/** Cuts `text` at `maxChars` with a note. */
export function capText(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  return { text: `${text.slice(0, maxChars)}\n\n[Cut at ${maxChars} characters.]`, truncated: true };
}
