/**
 * What the offline model says, as a pure function of the request: the slash commands
 * (`/tool`, `/python`, `/long`), the report after a tool ran, short summaries and titles, and an
 * honest default answer. No timing, no SDK types beyond the item shapes it reads.
 */
import type { AgentInputItem } from '@openai/agents';

/** What the offline model will produce for one model call. */
export type OfflinePlan =
  | { kind: 'text'; text: string }
  | { kind: 'tool_call'; name: string; arguments: string };

export interface OfflineRequest {
  systemInstructions?: string | undefined;
  input: string | AgentInputItem[];
  /** Names of the function tools offered in this call. */
  toolNames: string[];
}

/** The tool the `/python` command calls. */
export const PYTHON_TOOL = 'execute_python_code';
/** `/long` without a number, and its ceiling: enough to try an interrupt, bounded in memory. */
export const LONG_DEFAULT_WORDS = 200;
export const LONG_MAX_WORDS = 20_000;
/** A tool result longer than this is cut in the report. */
const REPORT_MAX_CHARS = 1_500;

const HOW_TO_CONFIGURE =
  'To talk to a real model, set OPENAI_API_KEY (OpenAI), OPENAI_BASE_URL (Ollama, vLLM, llama.cpp, LM Studio) ' +
  'or AZURE_OPENAI_ENDPOINT with AZURE_OPENAI_API_KEY (Azure OpenAI), then restart Pulp.';

const LONG_WORDS = 'This is the offline model streaming a long answer so that you can try interrupting it at any moment'.split(' ');

/** The plain text of a message's content, whatever its shape (string or content parts). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      if (typeof part !== 'object' || part === null) return '';
      const p = part as { text?: unknown; refusal?: unknown; transcript?: unknown };
      return typeof p.text === 'string' ? p.text : typeof p.refusal === 'string' ? p.refusal : '';
    })
    .join('');
}

function asItems(input: string | AgentInputItem[]): AgentInputItem[] {
  return typeof input === 'string' ? [{ role: 'user', content: input }] : input;
}

function isUser(item: AgentInputItem): boolean {
  return 'role' in item && item.role === 'user';
}

/** All text in the input, for token counting and summaries. */
export function inputText(input: string | AgentInputItem[]): string {
  return asItems(input)
    .map((item) => {
      if ('role' in item) return contentText(item.content);
      if (item.type === 'function_call') return `${item.name}(${item.arguments})`;
      if (item.type === 'function_call_result') return outputText(item.output);
      return '';
    })
    .join('\n');
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (typeof output === 'object' && output !== null && 'text' in output && typeof output.text === 'string') return output.text;
  if (Array.isArray(output)) return contentText(output);
  return JSON.stringify(output);
}

/** The media type and decoded size of each data-URL image part in a message's content. */
function imagesOf(content: unknown): Array<{ type: string; bytes: number }> {
  if (!Array.isArray(content)) return [];
  const images: Array<{ type: string; bytes: number }> = [];
  for (const part of content as unknown[]) {
    if (typeof part !== 'object' || part === null) continue;
    const p = part as { type?: unknown; image?: unknown };
    if (p.type !== 'input_image' || typeof p.image !== 'string') continue;
    const match = /^data:([^;,]+)(?:;[^,]*)?;base64,/.exec(p.image);
    if (!match?.[1]) continue;
    const base64 = p.image.slice(match[0].length);
    const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
    images.push({ type: match[1], bytes: (base64.length * 3) / 4 - padding });
  }
  return images;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Tool results that arrived after the model's last call, i.e. what it must report now. */
function trailingResults(items: AgentInputItem[]): Array<{ name: string; output: string }> {
  const results: Array<{ name: string; output: string }> = [];
  for (let i = items.length - 1; i >= 0; i -= 1) {
    const item = items[i];
    if (item === undefined || isUser(item)) break;
    if (!('role' in item) && item.type === 'function_call_result') results.unshift({ name: item.name, output: outputText(item.output) });
  }
  return results;
}

function reportResults(results: Array<{ name: string; output: string }>): string {
  const parts = results.map((r) => `The tool \`${r.name}\` returned:\n\n${cut(r.output, REPORT_MAX_CHARS)}`);
  return `${parts.join('\n\n')}\n\n(I am Pulp's offline model, so I only relay tool results without understanding them. ${HOW_TO_CONFIGURE})`;
}

function toolCommand(name: string, rawArgs: string, toolNames: string[]): OfflinePlan {
  if (!toolNames.includes(name)) {
    const offered = toolNames.length > 0 ? toolNames.map((t) => `\`${t}\``).join(', ') : 'none';
    return { kind: 'text', text: `I am Pulp's offline model. There is no tool named \`${name}\` in this session. Tools offered: ${offered}.` };
  }
  const json = rawArgs.trim() === '' ? '{}' : rawArgs.trim();
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return { kind: 'tool_call', name, arguments: JSON.stringify(parsed) };
  } catch {
    return { kind: 'text', text: `I am Pulp's offline model. The arguments for \`${name}\` must be a JSON object, for example: /tool ${name} {"path": "."}` };
  }
}

function longAnswer(count: string | undefined): OfflinePlan {
  const n = Math.min(LONG_MAX_WORDS, Math.max(1, Number.parseInt(count ?? '', 10) || LONG_DEFAULT_WORDS));
  const words = Array.from({ length: n }, (_, i) => LONG_WORDS[i % LONG_WORDS.length] ?? 'word');
  return { kind: 'text', text: `${words.join(' ')}.` };
}

/** 3–5 words taken from the text the model was asked to title. */
function title(text: string): string {
  // The title prompt is "User: …\n\nAssistant: …": the user's words name the chat best.
  const userPart = /^\s*user\s*:([\s\S]*?)(?:\n\s*assistant\s*:|$)/i.exec(text)?.[1] ?? text;
  const words = userPart
    .replace(/^\s*(user|assistant)\s*:/gim, ' ')
    .split(/[^\p{L}\p{N}'-]+/u)
    .filter((w) => w.length > 0 && !w.startsWith('/'))
    .slice(0, 4);
  const picked = words.length >= 3 ? words : ['Offline', 'chat', ...words].slice(0, 5);
  return picked.map((w, i) => (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join(' ').slice(0, 200);
}

function summary(items: AgentInputItem[]): string {
  const text = inputText(items).replace(/\s+/g, ' ').trim();
  const head = cut(text.slice(0, 160), 160);
  return `Summary by the offline model (it cannot really summarize): the conversation so far is about ${text.length} characters long; it reads: “${head}${text.length > 160 ? '…' : ''}”.`;
}

/**
 * Decides the offline model's next output. Summaries and titles are answered only for calls
 * without tools, so a chat turn whose system prompt happens to mention "summary" still gets the
 * normal answer.
 */
export function planOfflineReply(request: OfflineRequest): OfflinePlan {
  const items = asItems(request.input);
  const results = trailingResults(items);
  if (results.length > 0) return { kind: 'text', text: reportResults(results) };

  const lastUser = [...items].reverse().find(isUser);
  const said = lastUser && 'role' in lastUser ? contentText(lastUser.content) : '';
  const command = /^\s*\/(tool|python|long)\b[ \t]*([\s\S]*)$/m.exec(said);
  if (command) {
    const rest = command[2] ?? '';
    if (command[1] === 'long') return longAnswer(/^\d+/.exec(rest.trim())?.[0]);
    if (command[1] === 'python') {
      const code = rest
        .replace(/^\s*```(?:python|py)?[ \t]*\n?/, '')
        .replace(/\n?```\s*$/, '')
        .replace(/^[ \t]*\n/, '');
      if (!request.toolNames.includes(PYTHON_TOOL)) {
        return { kind: 'text', text: "I am Pulp's offline model. The code interpreter is not available on this server (it needs bubblewrap and python3)." };
      }
      return { kind: 'tool_call', name: PYTHON_TOOL, arguments: JSON.stringify({ code }) };
    }
    const tool = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
    if (!tool?.[1]) return { kind: 'text', text: "I am Pulp's offline model. Use it like this: /tool NAME {json arguments}" };
    return toolCommand(tool[1], tool[2] ?? '', request.toolNames);
  }

  const instructions = request.systemInstructions ?? '';
  if (request.toolNames.length === 0 && /\btitle\b/i.test(instructions)) return { kind: 'text', text: title(said || inputText(items)) };
  if (request.toolNames.length === 0 && /summar/i.test(instructions)) return { kind: 'text', text: summary(items) };

  const echo = said.trim() === '' ? '' : ` You said: “${cut(said.trim(), 200)}”.`;
  const images = lastUser && 'role' in lastUser ? imagesOf(lastUser.content) : [];
  if (images.length > 0) {
    const list = images.map((i) => `${i.type}, ${i.bytes} bytes`).join('; ');
    const noun = images.length === 1 ? 'image' : `${images.length} images`;
    return {
      kind: 'text',
      text: `I am Pulp's offline model. I received ${noun} (${list}) but I cannot see what ${images.length === 1 ? 'it shows' : 'they show'}. ${HOW_TO_CONFIGURE}`,
    };
  }
  return {
    kind: 'text',
    text:
      `Hello! I am Pulp's offline model: I run without any network, so I cannot really understand or answer you.${echo} ` +
      `${HOW_TO_CONFIGURE} Meanwhile you can try every feature: /tool NAME {json} calls a tool, ` +
      '/python CODE runs the code interpreter, and /long N streams N words so you can try interrupting.',
  };
}
