/**
 * Which format an import file is in, and its conversations read into the common shape: Pulp's own
 * file, ChatGPT's `conversations.json`, Open WebUI's and LibreChat's chat exports. A file may be
 * one conversation or an array of them.
 */
import { AppError } from '../errors/app-error.js';
import { fromChatGpt, looksLikeChatGpt } from './chatgpt.js';
import { fromLibreChat, looksLikeLibreChat } from './librechat.js';
import { importError, MAX_CONVERSATIONS, type SourceConversation } from './model.js';
import { fromOpenWebUi, looksLikeOpenWebUi } from './open-webui.js';
import { parseShape } from './parse-shape.js';
import { fromPulpDocument, PULP_FORMAT, PULP_VERSION, PulpDocumentSchema } from './pulp-format.js';

export type ImportFormat = 'pulp' | 'chatgpt' | 'open-webui' | 'librechat';

const SUPPORTED = "Pulp's own export, ChatGPT's conversations.json, or an Open WebUI or LibreChat chat export";

function formatOf(value: unknown): ImportFormat | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if ((value as { format?: unknown }).format === PULP_FORMAT) return 'pulp';
  if (looksLikeChatGpt(value)) return 'chatgpt';
  if (looksLikeOpenWebUi(value)) return 'open-webui';
  if (looksLikeLibreChat(value)) return 'librechat';
  return undefined;
}

function read(format: ImportFormat, value: unknown, index: number): SourceConversation {
  switch (format) {
    case 'pulp': {
      const label = `conversation ${index + 1}`;
      const version = (value as { version?: unknown }).version;
      if (version !== PULP_VERSION) throw new AppError('VAL_2032', `This Pulp export has version ${JSON.stringify(version)}; this server reads version ${PULP_VERSION}.`);
      return fromPulpDocument(parseShape(PulpDocumentSchema, value, label), label);
    }
    case 'chatgpt':
      return fromChatGpt(value, index);
    case 'open-webui':
      return fromOpenWebUi(value, index);
    case 'librechat':
      return fromLibreChat(value, index);
  }
}

/** The file's conversations. Throws VAL_2032 (no known format), VAL_2033 (not valid), VAL_2034 (over a limit). */
export function readImportFile(value: unknown): { format: ImportFormat; conversations: SourceConversation[] } {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw importError('VAL_2033', undefined, 'the file holds no conversations');
  if (list.length > MAX_CONVERSATIONS) throw importError('VAL_2034', undefined, `the file holds ${list.length} conversations; at most ${MAX_CONVERSATIONS} are imported at once`);
  const formats = list.map(formatOf);
  const first = formats[0];
  if (first === undefined) throw new AppError('VAL_2032', `The file is in no format Pulp can import; send ${SUPPORTED}.`);
  const other = formats.findIndex((f) => f !== first);
  if (other >= 0) throw importError('VAL_2033', `conversation ${other + 1}`, `it is not in the format of the first conversation (${first})`);
  return { format: first, conversations: list.map((item, i) => read(first, item, i)) };
}
