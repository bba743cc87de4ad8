/** The Responses API wire format (`POST …/responses`): request, stream and answer. */
import { responsesPayload } from './responses-request.js';
import { responsesResponse } from './responses-response.js';
import { ResponsesStreamTranslator } from './responses-stream.js';
import type { WireFormat } from './sse-model.js';

export const responses: WireFormat = {
  operation: 'responses',
  body: responsesPayload,
  translator: (context) => new ResponsesStreamTranslator(context),
  response: responsesResponse,
};
