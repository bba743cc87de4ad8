/** The Chat Completions wire format (`POST …/chat/completions`): request, stream and answer. */
import { chatCompletionsBody } from './chat-completions-request.js';
import { chatResponse } from './chat-completions-response.js';
import { ChatStreamTranslator } from './chat-completions-stream.js';
import type { WireFormat } from './sse-model.js';

export const chatCompletions: WireFormat = {
  operation: 'chat/completions',
  body: (request, model, stream) => JSON.stringify(chatCompletionsBody(request, model, stream)),
  translator: (context) => new ChatStreamTranslator(context),
  response: chatResponse,
};
