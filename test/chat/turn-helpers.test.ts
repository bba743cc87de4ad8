import { describe, expect, it } from 'vitest';
import { toolOutputText, toolSucceeded } from '../../src/chat/stream-mapper.js';
import { parseArguments } from '../../src/chat/tool-arguments.js';
import { MAX_LISTED_FILES, renderInstructions } from '../../src/chat/instructions.js';
import { tokenFrom } from '../../src/chat/ws-routes.js';

describe('tool call details', () => {
  it('parses arguments into an object, keeping broken or non-object JSON visible', () => {
    expect(parseArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseArguments('  ')).toEqual({});
    expect(parseArguments('{"a":')).toEqual({ _raw: '{"a":' });
    expect(parseArguments('[1]')).toEqual({ value: [1] });
  });

  it('turns structured tool output into the text the card shows', () => {
    expect(toolOutputText('plain')).toBe('plain');
    expect(toolOutputText({ type: 'text', text: 'from text' })).toBe('from text');
    expect(toolOutputText({ type: 'image', url: 'x' })).toBe('{"type":"image","url":"x"}');
  });

  it('counts SDK tool errors and JSON failures as unsuccessful', () => {
    expect(toolSucceeded('An error occurred while running the tool. Please try again.')).toBe(false);
    expect(toolSucceeded('{"success":false,"stderr":"x"}')).toBe(false);
    expect(toolSucceeded('{"error":"File not found"}')).toBe(false);
    expect(toolSucceeded('{"success":true,"error":null}')).toBe(true);
    expect(toolSucceeded('{not json')).toBe(true);
    expect(toolSucceeded('fine')).toBe(true);
  });
});

describe('the instructions the model gets', () => {
  const base = [
    'You are Pulp, a helpful assistant in a self-hosted chat. Answer clearly and concisely in Markdown.',
    "You work in this session's own workspace: `input/` holds the files the user uploaded (read-only for code), `output/` is where you write results.",
    'Use list_directory, read_file, search_files and edit_file to work with files, and generate_document to write a file into output/.',
  ];
  const closing = 'Say what you did with tools, and never invent tool results.';

  it('say the workspace is empty, and name no interpreter or MCP server that is not there', () => {
    expect(renderInstructions({ files: [], moreFiles: false, mcpServers: [], codeInterpreter: false })).toBe(
      [...base, 'The workspace has no files yet.', closing].join('\n'),
    );
  });

  it('describe the code interpreter, the MCP servers and the files when there are some', () => {
    const text = renderInstructions({ files: ['input/a.csv', 'output/b.png'], moreFiles: false, mcpServers: ['fs', 'time'], codeInterpreter: true });
    expect(text.split('\n')).toEqual([
      ...base,
      'execute_python_code runs Python 3 (numpy, pandas, matplotlib) in a sandbox with no network, with the session folder as working directory: read input/…, write output/…; figures are saved as PNG files in output/.',
      'Tools from these MCP servers are available: fs, time.',
      'Files in the workspace: input/a.csv, output/b.png.',
      closing,
    ]);
  });

  it('put a session’s own instructions in place of the default opening, with the workspace notes after them', () => {
    const facts = { files: [], moreFiles: false, mcpServers: [], codeInterpreter: false };
    expect(renderInstructions({ ...facts, custom: '  Answer in French.\nBe brief.  ' })).toBe(
      ['Answer in French.\nBe brief.\n', ...base.slice(1), 'The workspace has no files yet.', closing].join('\n'),
    );
    for (const blank of ['', '  \n ']) expect(renderInstructions({ ...facts, custom: blank })).toBe(renderInstructions(facts));
  });

  it('say when the file list is only the first files of a bigger workspace', () => {
    const files = Array.from({ length: MAX_LISTED_FILES }, (_, i) => `input/f${i}.txt`);
    const text = renderInstructions({ files, moreFiles: true, mcpServers: [], codeInterpreter: false });
    expect(text).toContain(`Files in the workspace (first ${MAX_LISTED_FILES}): input/f0.txt, `);
    expect(MAX_LISTED_FILES).toBe(50);
  });
});

describe('the token of a socket handshake', () => {
  const from = (protocol: string | undefined, query?: Record<string, unknown>) =>
    tokenFrom({ headers: protocol === undefined ? {} : { 'sec-websocket-protocol': protocol }, query });

  it('comes from the bearer subprotocol first, then from ?token=', () => {
    expect(from('bearer, abc')).toBe('abc');
    expect(from('chat,bearer,  abc ', { token: 'q' })).toBe('abc');
    expect(from('bearer', { token: 'q' })).toBe('q');
    expect(from('abc, bearer', { token: 'q' })).toBe('q');
    expect(from('graphql-ws, other', { token: 'q' })).toBe('q');
    expect(from(undefined, { token: 'q' })).toBe('q');
  });

  it('is missing when neither carries a non-empty string', () => {
    expect(from(undefined)).toBeUndefined();
    expect(from(undefined, { token: '' })).toBeUndefined();
    expect(from(undefined, { token: ['a', 'b'] })).toBeUndefined();
    expect(from('bearer, ', {})).toBeUndefined();
  });
});
