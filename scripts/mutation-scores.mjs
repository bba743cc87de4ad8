// Prints the mutation score of each module (src/<module>) from Stryker's JSON report, the way
// Stryker counts it — (killed + timed out) / (killed + timed out + survived + no coverage) —
// and exits 1 when a module is below the bar (70 %) or has no results at all.
// Usage: node scripts/mutation-scores.mjs [report.json] [--min 70]
import { existsSync, readFileSync } from 'node:fs';

const MODULES = ['chat', 'context', 'sessions', 'auth', 'workspace'];
const args = process.argv.slice(2);
const minAt = args.indexOf('--min');
const min = minAt >= 0 ? Number(args[minAt + 1]) : 70;
const reportPath = args.find((a, i) => !a.startsWith('--') && (minAt < 0 || i !== minAt + 1)) ?? 'reports/mutation/mutation.json';

if (!existsSync(reportPath)) {
  console.error(`no mutation report at ${reportPath}: run npm run test:mutation first`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));

const rows = MODULES.map((module) => {
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
  for (const [file, result] of Object.entries(report.files ?? {})) {
    if (!file.replaceAll('\\', '/').includes(`src/${module}/`)) continue;
    for (const mutant of result.mutants ?? []) {
      if (mutant.status in counts) counts[mutant.status]++;
      else counts.other++;
    }
  }
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  return { module, ...counts, score: valid === 0 ? Number.NaN : (100 * detected) / valid };
});

let failed = false;
console.log('module     mutants  killed  timeout  survived  no-cov  score');
for (const r of rows) {
  const valid = r.Killed + r.Timeout + r.Survived + r.NoCoverage;
  const ok = r.score >= min;
  failed ||= !ok;
  const score = Number.isNaN(r.score) ? 'no results' : `${r.score.toFixed(1)} %`;
  console.log(
    `${r.module.padEnd(10)} ${String(valid).padStart(7)} ${String(r.Killed).padStart(7)} ${String(r.Timeout).padStart(8)} ${String(r.Survived).padStart(9)} ${String(r.NoCoverage).padStart(7)}  ${score}${ok ? '' : `  (below ${min} %)`}`,
  );
}
process.exit(failed ? 1 : 0);
