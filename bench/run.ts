/**
 * `npm run bench`: runs every benchmark in bench/ one after the other (each starts and
 * stops its own servers) and exits non-zero when one crashes. Results go to bench/results/.
 * Arguments select benchmarks by name (default: all).
 */
import { runBudgetBench } from './budget.ts';
import { runIntakeBench } from './intake.ts';
import { runMeetingBench } from './meeting.ts';
import { runPagesBench } from './pages.ts';
import { runReportsBench } from './reports.ts';
import { runScaleBench } from './scale.ts';

const benchmarks: Record<string, () => Promise<unknown>> = {
  intake: () => runIntakeBench(),
  meeting: () => runMeetingBench(),
  budget: () => runBudgetBench(),
  reports: () => runReportsBench(),
  pages: () => runPagesBench(),
  scale: () => runScaleBench(),
};

const selected = process.argv.slice(2);
const unknown = selected.filter((name) => !(name in benchmarks));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of selected.length ? selected : Object.keys(benchmarks)) {
  const started = Date.now();
  try {
    await benchmarks[name]!();
    console.log(`bench ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed++;
    console.error(`bench ${name}: crashed:`, err);
  }
}
// The Temporal runtime keeps native threads; everything we started is stopped, so leave now.
process.exit(failed ? 1 : 0);
