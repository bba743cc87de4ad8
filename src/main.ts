/**
 * Process entry (`npm start` runs the compiled `dist/main.js`). It turns on Node's on-disk cache
 * of compiled modules before anything else is loaded — the server's few hundred modules then start
 * from cached bytecode on every start after the first — and runs the server.
 */
import module from 'node:module';
import { inspect } from 'node:util';

module.enableCompileCache?.();

try {
  const { serve } = await import('./serve.js');
  await serve();
} catch (err) {
  process.stderr.write(`Pulp failed to start: ${err instanceof Error ? err.message : inspect(err, { depth: 2, breakLength: Infinity })}\n`);
  process.exit(1);
}
