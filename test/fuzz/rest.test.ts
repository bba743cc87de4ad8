/**
 * Fuzzing every REST operation of the OpenAPI document: valid and mutated JSON bodies, hostile path
 * and query parameters, the ids of another user's things, and bad credentials. After each batch
 * the server must still be healthy; no answer is a 5xx, every error is the JSON envelope, and user
 * B's marker never reaches user A.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restOperations, type OpenApiDocument, type RestOperation } from './rest-requests.js';
import { sendRest } from './send.js';
import { fuzzBanner, fuzzParameters, fuzzTimeout } from './settings.js';
import { expectBUntouched, expectHealthy, Figures, rawRequest, startTarget, type Target } from './target.js';

/** Batches per operation in CI (each of one to four requests). */
const BATCHES_PER_OPERATION = 12;
/** More than the document has, for the time limit of a FUZZ_SECONDS run (one property per operation). */
const OPERATIONS_AT_MOST = 70;

let target: Target;
let operations: RestOperation[];
const figures = new Figures();

beforeAll(async () => {
  target = await startTarget();
  const res = await rawRequest(target.port, 'GET', '/api/v1/openapi.json', {});
  operations = restOperations(JSON.parse(res.body.toString()) as OpenApiDocument);
  console.log(fuzzBanner('REST'));
});
afterAll(async () => {
  console.log(`fuzz REST: ${figures.summary()}`);
  await target?.close();
});

describe('fuzzing the REST API from its OpenAPI document', () => {
  it('covers every operation of the document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(27);
    expect(operations.length).toBeLessThanOrEqual(OPERATIONS_AT_MOST);
  });

  it(
    'no operation answers a 5xx, leaks another user\'s data or leaves the server unhealthy',
    async () => {
      for (const operation of operations) {
        await fc.assert(
          fc.asyncProperty(fc.array(operation.input, { minLength: 1, maxLength: 4 }), async (batch) => {
            for (const input of batch) {
              const res = await sendRest(target, input);
              figures.count('REST requests', res.status);
            }
            await expectHealthy(target);
          }),
          fuzzParameters(BATCHES_PER_OPERATION),
        );
      }
      await expectBUntouched(target);
    },
    fuzzTimeout(60_000, OPERATIONS_AT_MOST),
  );
});
