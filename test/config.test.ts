/** src/config.ts: the defaults an installation starts with, and bad values stopping start-up. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { projectRoot } from '../src/embedded/servers.ts';

/** The problems loadConfig reports for `env`, or fails the test when it accepts it. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults (the Vlietwensen fund)', () => {
  const config = loadConfig({});

  it('listens on 127.0.0.1:3000 in development and uses the embedded servers', () => {
    expect(config.env).toBe('development');
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.temporal.address).toBeUndefined();
    expect(config.mongo.uri).toBeUndefined();
    expect(config.temporal.namespace).toBe('default');
    expect(config.temporal.taskQueue).toBe('buurtfonds');
    expect(config.documentDir).toBe('.data/documents');
  });

  it('knows the wijken of Leidschendam-Voorburg', () => {
    expect(config.fund.wijken).toEqual([
      'Bovenveen',
      'Damsigt',
      'Heuvel/Amstelwijk',
      'Leidschendam-Noord',
      'Prinsenhof',
      'Stompwijk',
      'Voorburg-Midden',
      'Voorburg-Noord',
      'Voorburg-West',
    ]);
  });

  it('has EUR 90,000 a year and at most EUR 30,000 per application, in cents', () => {
    expect(config.fund.annualBudgetCents).toBe(9_000_000);
    expect(config.fund.maxAmountCents).toBe(3_000_000);
    expect(config.fund.name).toBe('Vlietwensen');
    expect(config.fund.referencePrefix).toBe('VW');
  });

  it('gives 14 days to answer an information request, with a reminder after 7', () => {
    expect(config.fund.infoDeadlineDays).toBe(14);
    expect(config.fund.infoReminderDays).toBe(7);
  });

  it('accepts up to 10 uploads of 10 MB each', () => {
    expect(config.uploads.maxBytes).toBe(10 * 1024 * 1024);
    expect(config.uploads.maxFiles).toBe(10);
  });

  it('keeps personal data 2 years after closing and financial records 7 years', () => {
    expect(config.retention).toEqual({ personalDataDays: 730, financialYears: 7, schedule: true, scheduleId: 'personal-data-retention' });
    expect(loadConfig({ RETENTION_PERSONAL_DAYS: '365', RETENTION_FINANCIAL_YEARS: '10', RETENTION_SCHEDULE: 'false' }).retention).toEqual({ personalDataDays: 365, financialYears: 10, schedule: false, scheduleId: 'personal-data-retention' });
  });

  it('seeds demo staff outside production only', () => {
    expect(config.demo.seed).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_SECRET: 'a'.repeat(32), PAYOUT_DEBTOR_IBAN: 'NL34BNGH0285000001' }).demo.seed).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_SECRET: 'a'.repeat(32), PAYOUT_DEBTOR_IBAN: 'NL34BNGH0285000001', DEMO_SEED: 'true' }).demo.seed).toBe(true);
  });
});

describe('loadConfig with settings', () => {
  it('reads a wijken list, trimming names and dropping empty ones', () => {
    expect(loadConfig({ WIJKEN: ' Noord , Zuid,,' }).fund.wijken).toEqual(['Noord', 'Zuid']);
  });

  it('drops a trailing slash from PUBLIC_BASE_URL (links are built by appending paths)', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://vlietwensen.example/' }).publicBaseUrl).toBe('https://vlietwensen.example');
  });

  it('treats an empty numeric variable as unset, not as 0', () => {
    const config = loadConfig({ PORT: '', ANNUAL_BUDGET_CENTS: '', INFO_DEADLINE_DAYS: ' ' });
    expect(config.port).toBe(3000);
    expect(config.fund.annualBudgetCents).toBe(9_000_000);
    expect(config.fund.infoDeadlineDays).toBe(14);
  });

  it('takes external servers and a production secret', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      AUTH_SECRET: 's'.repeat(40),
      PAYOUT_DEBTOR_IBAN: 'nl34 bngh 0285 0000 01',
      TEMPORAL_ADDRESS: 'temporal:7233',
      MONGODB_URI: 'mongodb://mongo:27017/buurtfonds',
      PORT: '8080',
    });
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.mongo.uri).toBe('mongodb://mongo:27017/buurtfonds');
    expect(config.port).toBe(8080);
    expect(config.auth.secret).toBe('s'.repeat(40));
    // The municipality's own account, in electronic form; no demo BIC added to a real IBAN.
    expect(config.payouts.debtor).toEqual({ name: 'Gemeente Leidschendam-Voorburg', iban: 'NL34BNGH0285000001' });
  });

  it('has a demo debtor account outside production, and checks IBAN and BIC', () => {
    expect(loadConfig({}).payouts.debtor).toEqual({ name: 'Gemeente Leidschendam-Voorburg', iban: 'NL34BNGH0285000001', bic: 'BNGHNL2G' });
    expect(problems({ PAYOUT_DEBTOR_IBAN: 'NL00BNGH0285000001' })).toEqual(['PAYOUT_DEBTOR_IBAN: a valid IBAN']);
    expect(problems({ PAYOUT_DEBTOR_BIC: 'NOTABIC' })).toEqual(['PAYOUT_DEBTOR_BIC: a valid BIC']);
  });
});

describe('bad values stop start-up with a message naming the variable', () => {
  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '3000.5' }],
    ['TEMPORAL_ADDRESS', { TEMPORAL_ADDRESS: 'nonsense' }],
    ['TEMPORAL_ADDRESS', { TEMPORAL_ADDRESS: 'temporal' }],
    ['MONGODB_URI', { MONGODB_URI: 'http://x' }],
    ['NODE_ENV', { NODE_ENV: 'staging' }],
    ['AUTH_SECRET', { AUTH_SECRET: 'too-short' }],
    ['SMTP_URL', { SMTP_URL: 'not a url' }],
    ['INFO_DEADLINE_DAYS', { INFO_DEADLINE_DAYS: '0' }],
    ['REFERENCE_PREFIX', { REFERENCE_PREFIX: 'vw' }],
    ['RETENTION_PERSONAL_DAYS', { RETENTION_PERSONAL_DAYS: '0' }],
    ['RETENTION_PERSONAL_DAYS', { RETENTION_PERSONAL_DAYS: 'two years' }],
    ['RETENTION_FINANCIAL_YEARS', { RETENTION_FINANCIAL_YEARS: '0' }],
  ])('%s in %j', (variable, env) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it('refuses a reminder that does not come before the deadline', () => {
    expect(problems({ INFO_REMINDER_DAYS: '14' })).toEqual(['INFO_REMINDER_DAYS: must be less than INFO_DEADLINE_DAYS']);
    expect(problems({ INFO_DEADLINE_DAYS: '5', INFO_REMINDER_DAYS: '6' })).toEqual(['INFO_REMINDER_DAYS: must be less than INFO_DEADLINE_DAYS']);
    expect(loadConfig({ INFO_DEADLINE_DAYS: '5', INFO_REMINDER_DAYS: '4' }).fund.infoReminderDays).toBe(4);
  });

  it('requires AUTH_SECRET in production', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual(['AUTH_SECRET: required when NODE_ENV=production', 'PAYOUT_DEBTOR_IBAN: required when NODE_ENV=production']);
  });

  it('refuses a wijken list without a single name', () => {
    expect(problems({ WIJKEN: ' , ,' })).toEqual(['WIJKEN: at least one wijk is needed']);
  });

  it('names every bad variable at once, and says so in the error message', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'abc', MONGODB_URI: 'http://x' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid configuration:/);
    expect(message).toMatch(/^ {2}- PORT: /m);
    expect(message).toMatch(/^ {2}- MONGODB_URI: /m);
  });
});

describe.concurrent('the entry points refuse to start on a bad value', () => {
  /** Runs an entry point with Node (the same binary as this test) and only the given environment. */
  function run(entry: string, env: Record<string, string>) {
    return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
      const started = Date.now();
      const child = spawn(process.execPath, [join(projectRoot, entry)], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  it('node src/server.ts with PORT=abc exits non-zero and names PORT', async () => {
    const res = await run('src/server.ts', { PORT: 'abc', TEMPORAL_ADDRESS: '127.0.0.1:1', MONGODB_URI: 'mongodb://127.0.0.1:1/x' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^ {2}- PORT: /m);
    expect(res.stdout).not.toMatch(/listening/);
  });

  it('node src/worker.ts in production without AUTH_SECRET exits non-zero and names AUTH_SECRET', async () => {
    const res = await run('src/worker.ts', { NODE_ENV: 'production', TEMPORAL_ADDRESS: '127.0.0.1:1', MONGODB_URI: 'mongodb://127.0.0.1:1/x' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('AUTH_SECRET: required when NODE_ENV=production');
  });

  it('node src/server.ts without TEMPORAL_ADDRESS / MONGODB_URI says what it needs', async () => {
    const res = await run('src/server.ts', { LOG_LEVEL: 'info' });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain('TEMPORAL_ADDRESS and MONGODB_URI are required');
  });
});

describe('WIJK_ORGANISATIONS: the welfare organisation of each wijk', () => {
  it('defaults to SenW in the three Voorburg wijken and Woej everywhere else, Gemeentebreed included', () => {
    const { byWijk, organisations } = loadConfig({}).support.wijkOrganisations;
    expect(byWijk).toEqual({
      Bovenveen: 'Woej',
      Damsigt: 'Woej',
      'Heuvel/Amstelwijk': 'Woej',
      'Leidschendam-Noord': 'Woej',
      Prinsenhof: 'Woej',
      Stompwijk: 'Woej',
      'Voorburg-Midden': 'SenW',
      'Voorburg-Noord': 'SenW',
      'Voorburg-West': 'SenW',
      Gemeentebreed: 'Woej',
    });
    expect(organisations.sort()).toEqual(['SenW', 'Woej']);
  });

  it('keeps the default valid with another WIJKEN list', () => {
    expect(loadConfig({ WIJKEN: 'Noord,Voorburg-West' }).support.wijkOrganisations.byWijk).toEqual({ Noord: 'Woej', 'Voorburg-West': 'SenW', Gemeentebreed: 'Woej' });
  });

  it('reads Wijk=Organisation pairs, with * for the rest', () => {
    const { byWijk } = loadConfig({ WIJKEN: 'Noord,Zuid,Oost', WIJK_ORGANISATIONS: ' Noord = Welzijn A , *=Welzijn B' }).support.wijkOrganisations;
    expect(byWijk).toEqual({ Noord: 'Welzijn A', Zuid: 'Welzijn B', Oost: 'Welzijn B', Gemeentebreed: 'Welzijn B' });
    const named = loadConfig({ WIJKEN: 'Noord,Zuid', WIJK_ORGANISATIONS: 'Noord=A,Zuid=B,Gemeentebreed=C' }).support.wijkOrganisations;
    expect(named.byWijk).toEqual({ Noord: 'A', Zuid: 'B', Gemeentebreed: 'C' });
    expect(named.organisations).toEqual(['A', 'B', 'C']);
  });

  it('refuses an unknown wijk, a wijk without organisation, a wijk named twice and a malformed pair', () => {
    expect(problems({ WIJKEN: 'Noord,Zuid', WIJK_ORGANISATIONS: 'Noord=A,West=B,*=C' })).toEqual(['WIJK_ORGANISATIONS: "West" is not a wijk (WIJKEN, or Gemeentebreed)']);
    expect(problems({ WIJKEN: 'Noord,Zuid', WIJK_ORGANISATIONS: 'Noord=A,Gemeentebreed=A' })).toEqual(['WIJK_ORGANISATIONS: no organisation for "Zuid" (name it, or add *=Organisation)']);
    expect(problems({ WIJKEN: 'Noord', WIJK_ORGANISATIONS: 'Noord=A,Noord=B,*=C' })).toEqual(['WIJK_ORGANISATIONS: "Noord" is named twice']);
    expect(problems({ WIJKEN: 'Noord', WIJK_ORGANISATIONS: 'Noord,*=C' })).toEqual(['WIJK_ORGANISATIONS: "Noord" is not Wijk=Organisation']);
  });
});

describe('FOCUS_WIJKEN and REPORTS_MAX_AGE_SECONDS: the monitoring', () => {
  it('defaults to the five focus wijken of the policy documents and figures read again after five minutes', () => {
    const { reports } = loadConfig({});
    expect(reports.focusWijken).toEqual(['Heuvel/Amstelwijk', 'Voorburg-Midden', 'Bovenveen', 'Prinsenhof', 'Leidschendam-Noord']);
    expect(reports.maxAgeSeconds).toBe(300);
  });

  it('keeps only the default focus wijken that are wijken of another WIJKEN list', () => {
    expect(loadConfig({ WIJKEN: 'Noord,Bovenveen' }).reports.focusWijken).toEqual(['Bovenveen']);
  });

  it('reads a list (trimmed, each once), `none`, and 0 seconds (read on every request)', () => {
    expect(loadConfig({ FOCUS_WIJKEN: ' Damsigt , Stompwijk,Damsigt,' }).reports.focusWijken).toEqual(['Damsigt', 'Stompwijk']);
    expect(loadConfig({ FOCUS_WIJKEN: 'none' }).reports.focusWijken).toEqual([]);
    expect(loadConfig({ REPORTS_MAX_AGE_SECONDS: '0' }).reports.maxAgeSeconds).toBe(0);
  });

  it('refuses a focus wijk that is not a wijk, and a negative or fractional age', () => {
    expect(problems({ FOCUS_WIJKEN: 'Damsigt,Atlantis' })).toEqual(['FOCUS_WIJKEN: "Atlantis" is not a wijk (WIJKEN)']);
    expect(problems({ REPORTS_MAX_AGE_SECONDS: '-1' })[0]).toMatch(/^REPORTS_MAX_AGE_SECONDS: /);
    expect(problems({ REPORTS_MAX_AGE_SECONDS: '1.5' })[0]).toMatch(/^REPORTS_MAX_AGE_SECONDS: /);
  });
});
