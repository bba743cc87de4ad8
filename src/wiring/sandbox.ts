/** Starting the code interpreter's sandbox from the configuration. */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { PythonSandbox } from '../workspace/sandbox/sandbox.js';

/** The code interpreter when `CODE_INTERPRETER` allows it and the sandbox really runs here; never a fallback. */
export async function startSandbox(config: Config, logger: Logger): Promise<PythonSandbox | undefined> {
  if (config.codeInterpreter.mode === 'off') return undefined;
  const sandbox = new PythonSandbox({
    defaultTimeoutMs: config.codeInterpreter.timeoutS * 1000,
    defaultMemoryMb: config.codeInterpreter.memoryMb,
    maxConcurrent: config.codeInterpreter.maxConcurrent,
    maxConcurrentPerUser: config.codeInterpreter.maxConcurrentPerUser,
  });
  if (await sandbox.available()) return sandbox;
  const log = config.codeInterpreter.mode === 'on' ? logger.error.bind(logger) : logger.info.bind(logger);
  log({ reason: sandbox.reason }, 'code interpreter unavailable: the sandbox (bubblewrap + python3) does not run here');
  return undefined;
}
