/**
 * The end of a turn as data: every way a turn can end, from what it left open, gives the rows, the
 * context items and the events — the same for a live turn and for one whose server died.
 */
import { describe, expect, it } from 'vitest';
import { NewMessageInterrupt, ShutdownInterrupt, UserInterrupt } from '../../src/chat/cancellation.js';
import { FAILED_TURN_TOOL_RESULT, INTERRUPTED_TEXT_MARK, INTERRUPTED_TOOL_RESULT } from '../../src/chat/context-store.js';
import { statusOf } from '../../src/chat/row-flags.js';
import { ERROR_TEXT_MARK, endTurn, type OpenTurn } from '../../src/chat/turn-end.js';
import { AppError } from '../../src/errors/app-error.js';

const nothing: OpenTurn = { openText: undefined, unsaid: '', calls: [] };
const midText: OpenTurn = { openText: 'Half an ans', unsaid: 'Earlier.\n\nHalf an ans', calls: [] };
const midTool: OpenTurn = {
  openText: undefined,
  unsaid: 'Let me look.',
  calls: [
    { callId: 'call_run', name: 'lookup', args: { word: 'x' }, hasRow: true, inContext: true },
    { callId: 'call_card', name: 'lookup', args: { _raw: '{"wo' }, hasRow: false, inContext: false },
  ],
};
const said = (text: string, mark: string) => ({ type: 'message', role: 'assistant', status: 'incomplete', content: [{ type: 'output_text', text: text + mark }] });

describe('endTurn', () => {
  it('stop: the open segment is saved whole; nothing else is written or said but assistant_end', () => {
    const ending = endTurn(midText, { kind: 'stop' });
    expect(ending).toEqual({
      finishReason: 'stop',
      text: { content: 'Half an ans', flags: {} },
      tools: [],
      context: [],
      events: [],
      closing: [{ type: 'assistant_end', finish_reason: 'stop' }],
    });
    expect(statusOf('assistant', ending.text!.flags, null)).toBeNull();
  });

  it('max_turns: like stop, with its own finish reason', () => {
    const ending = endTurn(nothing, { kind: 'max_turns' });
    expect(ending).toMatchObject({ finishReason: 'max_turns', text: undefined, tools: [], context: [], events: [] });
    expect(ending.closing).toEqual([{ type: 'assistant_end', finish_reason: 'max_turns' }]);
  });

  it('interrupted during text: the segment is partial and interrupted, and the context keeps all unsaid text, marked', () => {
    const ending = endTurn(midText, { kind: 'interrupted' });
    expect(ending.finishReason).toBe('interrupted');
    expect(ending.text).toEqual({ content: 'Half an ans', flags: { partial: true, status: 'interrupted' } });
    expect(statusOf('assistant', ending.text!.flags, null)).toBe('interrupted');
    expect(ending.context).toEqual([said('Earlier.\n\nHalf an ans', INTERRUPTED_TEXT_MARK)]);
    expect(ending.events).toEqual([]);
    expect(ending.closing).toEqual([{ type: 'assistant_end', finish_reason: 'interrupted' }]);
  });

  it('interrupted during a tool call: every open call completes as interrupted; only a call the context holds gets an output there', () => {
    const ending = endTurn(midTool, { kind: 'interrupted' });
    expect(ending.text).toBeUndefined();
    expect(ending.tools).toEqual([
      { callId: 'call_run', name: 'lookup', args: { word: 'x' }, insert: false, result: INTERRUPTED_TOOL_RESULT, success: false, flags: { interrupted: true, status: 'interrupted' } },
      { callId: 'call_card', name: 'lookup', args: { _raw: '{"wo' }, insert: true, result: INTERRUPTED_TOOL_RESULT, success: false, flags: { interrupted: true, status: 'interrupted' } },
    ]);
    expect(statusOf('tool_call', ending.tools[0]!.flags, false)).toBe('interrupted');
    expect(ending.context).toEqual([
      { type: 'function_call_result', callId: 'call_run', name: 'lookup', status: 'incomplete', output: INTERRUPTED_TOOL_RESULT },
      said('Let me look.', INTERRUPTED_TEXT_MARK),
    ]);
    expect(ending.events).toEqual(
      ['call_run', 'call_card'].map((id) => ({ type: 'function_completed', tool_call_id: id, tool_name: 'lookup', tool_result: INTERRUPTED_TOOL_RESULT, tool_success: false, interrupted: true })),
    );
  });

  it('interrupted before the first token: nothing to write, only assistant_end', () => {
    expect(endTurn(nothing, { kind: 'interrupted' })).toEqual({
      finishReason: 'interrupted',
      text: undefined,
      tools: [],
      context: [],
      events: [],
      closing: [{ type: 'assistant_end', finish_reason: 'interrupted' }],
    });
  });

  it('error: text is partial and failed, tools fail (not interrupted), the context text is marked as cut by an error, and error precedes assistant_end', () => {
    const error = new AppError('EXT_7010', 'The model provider failed.');
    const ending = endTurn({ ...midTool, openText: 'Let me look.' }, { kind: 'error', error, requestId: 'req-1' });
    expect(ending.finishReason).toBe('error');
    expect(ending.text).toEqual({ content: 'Let me look.', flags: { partial: true, status: 'failed' } });
    expect(statusOf('assistant', ending.text!.flags, null)).toBe('failed');
    expect(ending.tools.map((t) => [t.result, t.flags, statusOf('tool_call', t.flags, t.success)])).toEqual([
      [FAILED_TURN_TOOL_RESULT, {}, 'failed'],
      [FAILED_TURN_TOOL_RESULT, {}, 'failed'],
    ]);
    expect(ending.context.at(-1)).toEqual(said('Let me look.', ERROR_TEXT_MARK));
    expect(ending.events.every((e) => e.type === 'function_completed' && !('interrupted' in e))).toBe(true);
    expect(ending.closing).toEqual([
      { type: 'error', code: 'EXT_7010', message: 'The model provider failed.', recoverable: true, request_id: 'req-1' },
      { type: 'assistant_end', finish_reason: 'error' },
    ]);
  });

  it('an error that a retry cannot fix (context too large) is not recoverable', () => {
    const ending = endTurn(nothing, { kind: 'error', error: new AppError('CTX_4101'), requestId: 'r' });
    expect(ending.closing[0]).toMatchObject({ type: 'error', code: 'CTX_4101', recoverable: false });
  });

  it('says who stopped the turn in its tool results and cut text: the user by default, a new message, a server shutdown', () => {
    const midTool: OpenTurn = { openText: undefined, unsaid: 'Let me look.', calls: [{ callId: 'c', name: 'lookup', args: {}, hasRow: true, inContext: true }] };
    expect(endTurn(midTool, { kind: 'interrupted' }).tools[0]!.result).toBe(INTERRUPTED_TOOL_RESULT);
    for (const reason of [new UserInterrupt(), new NewMessageInterrupt(), new ShutdownInterrupt()]) {
      const ending = endTurn(midTool, { kind: 'interrupted', by: reason.interruptedBy });
      const result = `Interrupted by ${reason.interruptedBy} before the tool returned.`;
      expect(ending.tools[0]!.result).toBe(result);
      expect(ending.events[0]).toMatchObject({ tool_result: result });
      expect(ending.context).toEqual([
        { type: 'function_call_result', callId: 'c', name: 'lookup', status: 'incomplete', output: result },
        said('Let me look.', `\n\n[interrupted by ${reason.interruptedBy}]`),
      ]);
    }
    expect(new ShutdownInterrupt().interruptedBy).toBe('a server shutdown');
  });

  it('orphaned after a crash: like an interrupt, then stream_interrupted — or assistant_start when the turn never said anything', () => {
    const crashed: OpenTurn = {
      openText: 'half an ans',
      unsaid: 'half an ans',
      calls: [{ callId: 'call_1', name: 'lookup', args: {}, hasRow: true, inContext: false }],
    };
    const ending = endTurn(crashed, { kind: 'orphaned', started: true });
    expect(ending.finishReason).toBe('interrupted');
    expect(ending.text).toEqual({ content: 'half an ans', flags: { partial: true, status: 'interrupted' } });
    // The user did not stop it: its results say the server stopped.
    const result = 'Interrupted by the server stopping before the tool returned.';
    expect(ending.tools).toMatchObject([{ callId: 'call_1', insert: false, result, flags: { interrupted: true, status: 'interrupted' } }]);
    expect(ending.events[0]).toMatchObject({ type: 'function_completed', tool_result: result, interrupted: true });
    // Its function_call never reached the context, so only the text goes there.
    expect(ending.context).toEqual([said('half an ans', '\n\n[interrupted by the server stopping]')]);
    expect(ending.events.map((e) => e.type)).toEqual(['function_completed', 'stream_interrupted']);
    expect(ending.closing).toEqual([{ type: 'assistant_end', finish_reason: 'interrupted' }]);

    expect(endTurn(nothing, { kind: 'orphaned', started: false }).events).toEqual([{ type: 'assistant_start' }]);
  });
});
