import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonSandbox } from '../../src/workspace/sandbox/sandbox.js';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import { appears, rawRequest, startFilesServer, upload, warnIfSkipped, type FilesTestServer, type TestSession } from './support.js';

const skip = warnIfSkipped('code-interpreter.test.ts');
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(skip)('the code interpreter through the tools and the files API', () => {
  let server: FilesTestServer;
  let session: TestSession;
  let tools: Map<string, WorkspaceTool>;
  const context = new RunContext();
  const call = async (name: string, args: Record<string, unknown>, signal?: AbortSignal) =>
    JSON.parse(String(await tools.get(name)!.invoke(context, JSON.stringify(args), signal ? { signal } : undefined)));
  const auth = () => ({ 'x-test-user': session.userId });

  beforeAll(async () => {
    server = await startFilesServer();
    session = await server.newSession();
    const sandbox = new PythonSandbox();
    expect(await sandbox.available()).toBe(true);
    tools = new Map(createWorkspaceTools({ root: session.root, sessionUuid: session.uuid, db: server.db, sandbox, codeTimeoutMs: 60_000, codeMemoryMb: 512 }).map((t) => [t.name, t]));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('Python reads an uploaded CSV with pandas, writes a chart PNG to output/, and the chart downloads through the files API', async () => {
    const csv = 'month,sales\nJan,10\nFeb,14\nMar,9\nApr,17\n';
    expect((await upload(server, session, [{ name: 'file', filename: 'sales.csv', data: Buffer.from(csv) }])).status).toBe(201);
    expect([...tools.keys()]).toContain('execute_python_code');

    const code = [
      'import pandas as pd',
      'import matplotlib.pyplot as plt',
      'df = pd.read_csv("input/sales.csv")',
      'print("total", df["sales"].sum())',
      'ax = df.plot(x="month", y="sales", kind="bar")',
      'plt.savefig("output/chart.png")',
      'plt.figure()',
      'plt.plot([1, 2, 3], [3, 1, 2])',
    ].join('\n');
    const result = await call('execute_python_code', { code });
    expect(result).toMatchObject({ success: true, exit_code: 0, stdout: 'total 50\n' });
    // The chart it saved, and the figure it left open (saved for it), nothing twice.
    expect(result.files).toEqual([
      expect.objectContaining({ name: 'chart.png', path: 'output/chart.png', type: 'image/png' }),
      expect.objectContaining({ name: 'figure_2.png', path: 'output/figure_2.png', type: 'image/png' }),
    ]);

    const download = await rawRequest(server.port, 'GET', `/api/v1/sessions/${session.publicId}/files/output/chart.png`, auth());
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('image/png');
    expect(download.body.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    expect(download.body.equals(readFileSync(path.join(session.root, 'output', 'chart.png')))).toBe(true);

    const { rows } = await server.db.query<{ filename: string; content_type: string }>(
      "SELECT filename, content_type FROM files WHERE session_id = $1 AND folder = 'output' ORDER BY filename",
      [session.uuid],
    );
    expect(rows).toEqual([
      { filename: 'chart.png', content_type: 'image/png' },
      { filename: 'figure_2.png', content_type: 'image/png' },
    ]);
  });

  it('a symlink to /etc/passwd planted by a code run is refused by the download route and read_file', async () => {
    const planted = await call('execute_python_code', { code: 'import os\nos.symlink("/etc/passwd", "output/passwd")\nprint("planted")' });
    expect(planted.stdout).toBe('planted\n');
    const download = await rawRequest(server.port, 'GET', `/api/v1/sessions/${session.publicId}/files/output/passwd`, auth());
    expect(download.status).toBe(400);
    expect(download.json().error?.code).toBe('FILE_5004');
    expect(download.body.toString()).not.toContain('root:');
    const read = await call('read_file', { path: 'output/passwd' });
    expect(read).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
  });

  it('a failing program is a result the model reads, with the traceback', async () => {
    const result = await call('execute_python_code', { code: 'import pandas as pd\npd.read_csv("input/missing.csv")' });
    expect(result.success).toBe(false);
    expect(result.exit_code).toBe(1);
    expect(result.stderr).toContain('FileNotFoundError');
  });

  it('an interrupted turn cancels the tool call: it throws the abort reason and the run stops', async () => {
    const controller = new AbortController();
    const running = appears(path.join(session.root, 'output'), 'looping');
    const pending = call('execute_python_code', { code: 'open("output/looping", "w").close()\nwhile True:\n    pass' }, controller.signal).then(
      () => 'answered',
      (err: unknown) => err,
    );
    const reason = new Error('interrupted');
    // Abort once the program is running (its marker file exists).
    await running;
    const stopAt = performance.now();
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(performance.now() - stopAt).toBeLessThan(500);
  });
});
