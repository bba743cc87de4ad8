/**
 * What the model reads when a workspace tool fails: a JSON result with a code and a message that
 * names the path the model used, never a host path or a raw exception; only a stop is thrown.
 */
import { describe, expect, it } from 'vitest';
import { UserInterrupt } from '../../src/chat/cancellation.js';
import { AppError } from '../../src/errors/app-error.js';
import { invalidArgumentsResult, okResult, runTool } from '../../src/workspace/tools/tool-result.js';

const errno = (code: string) => Object.assign(new Error(`${code}: /srv/pulp/data/sessions/secret/input/a.txt`), { code });

describe('tool results', () => {
  it('an answer is a success object; a failure names its code and the path the model used', async () => {
    expect(await runTool(undefined, 'input/a.txt', async () => okResult({ n: 1 }))).toBe('{"success":true,"n":1}');
    const failed = await runTool(undefined, 'input/a.txt', async () => {
      throw errno('ENOENT');
    });
    expect(JSON.parse(failed)).toEqual({ success: false, error: { code: 'FILE_5001', message: 'No file at "input/a.txt".' } });
    const unknown = await runTool(undefined, 'input/a.txt', async () => {
      throw errno('EIO');
    });
    expect(JSON.parse(unknown)).toEqual({ success: false, error: { code: 'INT_9001', message: 'The file operation failed.' } });
    const own = await runTool(undefined, 'x', async () => {
      throw new AppError('FILE_5002', 'Too big.');
    });
    expect(JSON.parse(own)).toEqual({ success: false, error: { code: 'FILE_5002', message: 'Too big.' } });
  });

  it('a stop is thrown with its reason, before or during the tool', async () => {
    const stopped = new AbortController();
    stopped.abort(new UserInterrupt());
    let ran = false;
    await expect(
      runTool(stopped.signal, 'x', async () => {
        ran = true;
        return okResult({});
      }),
    ).rejects.toBeInstanceOf(UserInterrupt);
    expect(ran).toBe(false);

    const during = new AbortController();
    await expect(
      runTool(during.signal, 'x', async () => {
        during.abort(new UserInterrupt('stop'));
        throw new Error('the read was aborted');
      }),
    ).rejects.toMatchObject({ message: 'stop' });
  });

  it('arguments that fail the schema come back readable, at most 500 characters of detail', () => {
    expect(JSON.parse(invalidArgumentsResult(new Error(`path: ${'x'.repeat(600)}`)))).toEqual({
      success: false,
      error: { code: 'VAL_2001', message: `Invalid tool arguments: path: ${'x'.repeat(494)}` },
    });
    expect(JSON.parse(invalidArgumentsResult('odd')).error.message).toBe('Invalid tool arguments: the arguments do not match the tool schema');
  });
});
