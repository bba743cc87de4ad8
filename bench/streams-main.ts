/**
 * `npm run bench:streams [-- 200 1000 idle postgres timeline]`: the concurrency scenarios of bench/streams.ts alone,
 * printed as a markdown table (and written to bench/streams-results.md).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { heading, streamScenarios, table } from './streams.js';

const began = performance.now();
const rows = await streamScenarios(process.argv.slice(2));
const out = `${heading('Pulp concurrency benchmark', (performance.now() - began) / 1000)}\n\n${table(rows)}`;
process.stdout.write(out);
writeFileSync(path.join(import.meta.dirname, 'streams-results.md'), out);
process.exit(0);
