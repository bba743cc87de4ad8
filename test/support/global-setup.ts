/**
 * Once per run, before any test file of the integration and browser projects:
 * - builds what `npm start` runs (dist/ and web/dist/) — the child-process tests run the compiled
 *   server, and must never run stale output; a current build is skipped in milliseconds (its stamp);
 * - makes the template databases the files copy (PostgreSQL's with TEST_DATABASE_URL, and PGlite's
 *   tarballs, kept between runs), so files do not race to make them.
 */
import { buildAll } from '../../scripts/build.mjs';
import { ensurePgliteTemplates, ensurePostgresTemplate, TEST_DATABASE_URL } from './database.js';

export default async function setup(): Promise<void> {
  await buildAll();
  await Promise.all([ensurePgliteTemplates(), TEST_DATABASE_URL ? ensurePostgresTemplate() : undefined]);
}
