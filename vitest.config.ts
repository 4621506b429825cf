import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest (they wait: a crash test restarting workers, a Schedule
 * firing at a real cut-off, the walk of every route and page, the browsers) start first,
 * so the run does not end on one of them alone. Then the rest, as vitest orders them.
 */
const slowFirst = [
  'test/chaos/payout-crash.test.ts',
  'test/api/authorization.test.ts',
  'test/chaos/mail-crash.test.ts',
  'test/temporal/meeting-cutoff.test.ts',
  'test/api/meeting-continue-as-new.test.ts',
  'test/embedded-kill.test.ts',
  'test/workflows/follow-up.test.ts',
  'test/api/account-lock.test.ts',
  'test/web/pages.browser.test.ts',
  'test/web/lifecycle.browser.test.ts',
  'test/web/security.test.ts',
  'test/web/authorization.test.ts',
  'test/api/meetings.test.ts',
  'test/api/payouts.test.ts',
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = slowFirst.findIndex((s) => f.moduleId.endsWith(s));
      return i < 0 ? slowFirst.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

/**
 * Test files run three at a time: most of their time is spent waiting on the servers
 * (Temporal, FerretDB, Chromium), so three keep a two-core machine busy (four made
 * the slowest scenarios miss their deadlines). The workflows
 * are bundled once for the run (test/setup/global.ts), not by every file.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    sequence: { sequencer: SlowFirst },
  },
});
