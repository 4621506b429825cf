import { z } from 'zod';
import { electronicFormatIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { defaultWijkOrganisations, parseWijkOrganisations, type WijkOrganisations } from './support/organisations.ts';

export const defaultWijken = [
  'Bovenveen',
  'Damsigt',
  'Heuvel/Amstelwijk',
  'Leidschendam-Noord',
  'Prinsenhof',
  'Stompwijk',
  'Voorburg-Midden',
  'Voorburg-Noord',
  'Voorburg-West',
] as const;

/** The focus wijken of the monitoring: where the cohesion figures are lowest (the municipality's policy documents). */
export const defaultFocusWijken = ['Heuvel/Amstelwijk', 'Voorburg-Midden', 'Bovenveen', 'Prinsenhof', 'Leidschendam-Noord'] as const;

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalUrl = z.string().url().optional();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(3000).pipe(z.number().max(65535)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:3000'),
  DATA_DIR: z.string().min(1).default('.data'),
  DOCUMENT_DIR: z.string().min(1).optional(),

  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('buurtfonds'),
  TEMPORAL_PORT: int(7233).pipe(z.number().max(65535)),
  TEMPORAL_UI_PORT: int(8233).pipe(z.number().max(65535)),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'mongodb:// URI').optional(),
  FERRETDB_PORT: int(27027).pipe(z.number().max(65535)),

  AUTH_SECRET: z.string().min(32).optional(),
  TOKEN_TTL_MINUTES: int(30, 1),
  LOGIN_RATE_LIMIT: int(10, 1),
  LOGIN_RATE_WINDOW_SECONDS: int(900, 1),
  LOGIN_ACCOUNT_LIMIT: int(10, 1),
  LOGIN_ACCOUNT_WINDOW_SECONDS: int(900, 1),
  LOGIN_ACCOUNT_LOCK_SECONDS: int(900, 1),
  DEMO_PASSWORD: z.string().min(8).optional(),
  DEMO_SEED: z.enum(['true', 'false']).optional(),

  SMTP_URL: optionalUrl,
  MAIL_FROM: z.string().min(3).default('Vlietwensen <noreply@buurtfonds.test>'),

  FUND_NAME: z.string().min(1).default('Vlietwensen'),
  REFERENCE_PREFIX: z.string().regex(/^[A-Z]{1,6}$/).default('VW'),
  WIJKEN: z.string().optional(),
  FOCUS_WIJKEN: z.string().optional(),
  WIJK_ORGANISATIONS: z.string().optional(),
  ANNUAL_BUDGET_CENTS: int(9_000_000),
  MAX_AMOUNT_CENTS: int(3_000_000, 1),
  INFO_DEADLINE_DAYS: int(14, 1),
  INFO_REMINDER_DAYS: int(7, 1),
  REPORT_DEADLINE_DAYS: int(56, 1),
  MEETING_FIRST_DATE: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
    .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'a real date')
    .default('2026-01-08'),
  MEETING_TIME: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM').default('19:30'),
  MEETING_INTERVAL_DAYS: int(14, 1),
  MEETING_CUTOFF_DAYS: int(7, 1),
  MEETING_SCHEDULE: z.enum(['true', 'false']).default('true'),
  MEETING_SCHEDULE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).default('panel-meetings'),
  PANEL_QUORUM: int(3, 1),
  PANEL_MAJORITY: z.coerce.number().min(0.5).max(0.99).default(0.5),
  ROLLOVER_FLAG_AFTER: int(2, 1),
  PAYOUT_DEBTOR_NAME: z.string().min(1).max(70).default('Gemeente Leidschendam-Voorburg'),
  PAYOUT_DEBTOR_IBAN: z
    .string()
    .transform((v) => electronicFormatIBAN(v) ?? v)
    .refine((v) => isValidIBAN(v), 'a valid IBAN')
    .optional(),
  PAYOUT_DEBTOR_BIC: z
    .string()
    .transform((v) => v.replace(/\s/g, '').toUpperCase())
    .refine((v) => isValidBIC(v), 'a valid BIC')
    .optional(),
  MAX_UPLOAD_BYTES: int(10 * 1024 * 1024, 1),
  MAX_UPLOAD_FILES: int(10, 1),
  RETENTION_PERSONAL_DAYS: int(730, 1),
  RETENTION_FINANCIAL_YEARS: int(7, 1),
  RETENTION_SCHEDULE: z.enum(['true', 'false']).default('true'),
  RETENTION_SCHEDULE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).default('personal-data-retention'),
  REPORTS_MAX_AGE_SECONDS: int(300, 0),
  LEDGER_FULL_CHECK_SECONDS: int(600, 0),
});

/** Every environment variable the service reads (docker-compose.yml must use only these). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: string;
  publicBaseUrl: string;
  dataDir: string;
  documentDir: string;
  temporal: { address?: string; namespace: string; taskQueue: string; port: number; uiPort: number };
  mongo: { uri?: string; ferretPort: number };
  /**
   * Failed logins are limited twice: per client address (`loginRate…`, in the process's
   * memory) and per account (`account…`, in the database, so every api process counts
   * the same failures): `accountLimit` failures on one e-mail address within
   * `accountWindowSeconds`, from any addresses, lock that address for `accountLockSeconds`.
   */
  auth: {
    secret?: string;
    tokenTtlMinutes: number;
    loginRateLimit: number;
    loginRateWindowSeconds: number;
    accountLimit: number;
    accountWindowSeconds: number;
    accountLockSeconds: number;
  };
  demo: { seed: boolean; password?: string };
  mail: { smtpUrl?: string; from: string };
  fund: {
    name: string;
    referencePrefix: string;
    wijken: string[];
    annualBudgetCents: number;
    maxAmountCents: number;
    infoDeadlineDays: number;
    infoReminderDays: number;
    reportDeadlineDays: number;
  };
  uploads: { maxBytes: number; maxFiles: number };
  /**
   * How long data is kept after an application is closed: personal data for a number
   * of days (then the initiative workflow erases it), the financial records (ledger
   * journal, SEPA files) for the fiscal retention period in years after the year of
   * their last movement.
   */
  retention: { personalDataDays: number; financialYears: number; schedule: boolean; scheduleId: string };
  /** The municipality's account the payouts are made from (SEPA debtor). */
  payouts: { debtor: { name: string; iban: string; bic?: string } };
  meetings: { firstDate: string; time: string; intervalDays: number; cutoffDays: number; schedule: boolean; scheduleId: string; quorum: number; majority: number; flagAfterRollovers: number };
  /** Welfare support: the organisation responsible for each wijk (WIJK_ORGANISATIONS). */
  support: { wijkOrganisations: WijkOrganisations };
  /**
   * Monitoring: the focus wijken (FOCUS_WIJKEN, a subset of the wijken; `none` for none)
   * and how long the figures of a year may be served before they are read again.
   */
  reports: { focusWijken: string[]; maxAgeSeconds: number };
  /** /readyz: how often the ledger is checked in full (in between, a probe checks what was appended). */
  readiness: { ledgerFullCheckSeconds: number };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses the environment once; a bad value stops start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (FOO= in a .env file, ${FOO} unset in compose) counts as unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const wijken = e.WIJKEN ? e.WIJKEN.split(',').map((w) => w.trim()).filter(Boolean) : [...defaultWijken];
  if (wijken.length === 0) problems.push('WIJKEN: at least one wijk is needed');
  const focusWijken = !e.FOCUS_WIJKEN
    ? defaultFocusWijken.filter((w) => wijken.includes(w))
    : e.FOCUS_WIJKEN.trim() === 'none'
      ? []
      : [...new Set(e.FOCUS_WIJKEN.split(',').map((w) => w.trim()).filter(Boolean))];
  for (const w of focusWijken) if (!wijken.includes(w)) problems.push(`FOCUS_WIJKEN: "${w}" is not a wijk (WIJKEN)`);
  const wijkOrganisations = parseWijkOrganisations(e.WIJK_ORGANISATIONS ?? defaultWijkOrganisations(wijken), wijken);
  problems.push(...wijkOrganisations.problems.map((p) => `WIJK_ORGANISATIONS: ${p}`));
  if (e.INFO_REMINDER_DAYS >= e.INFO_DEADLINE_DAYS) problems.push('INFO_REMINDER_DAYS: must be less than INFO_DEADLINE_DAYS');
  if (e.MEETING_CUTOFF_DAYS >= e.MEETING_INTERVAL_DAYS) problems.push('MEETING_CUTOFF_DAYS: must be less than MEETING_INTERVAL_DAYS');
  if (e.NODE_ENV === 'production' && !e.AUTH_SECRET) problems.push('AUTH_SECRET: required when NODE_ENV=production');
  if (e.NODE_ENV === 'production' && !e.PAYOUT_DEBTOR_IBAN) problems.push('PAYOUT_DEBTOR_IBAN: required when NODE_ENV=production');
  if (problems.length) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/$/, ''),
    dataDir: e.DATA_DIR,
    documentDir: e.DOCUMENT_DIR ?? `${e.DATA_DIR}/documents`,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    mongo: { uri: e.MONGODB_URI, ferretPort: e.FERRETDB_PORT },
    auth: {
      secret: e.AUTH_SECRET,
      tokenTtlMinutes: e.TOKEN_TTL_MINUTES,
      loginRateLimit: e.LOGIN_RATE_LIMIT,
      loginRateWindowSeconds: e.LOGIN_RATE_WINDOW_SECONDS,
      accountLimit: e.LOGIN_ACCOUNT_LIMIT,
      accountWindowSeconds: e.LOGIN_ACCOUNT_WINDOW_SECONDS,
      accountLockSeconds: e.LOGIN_ACCOUNT_LOCK_SECONDS,
    },
    demo: { seed: e.DEMO_SEED ? e.DEMO_SEED === 'true' : e.NODE_ENV !== 'production', password: e.DEMO_PASSWORD },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    fund: {
      name: e.FUND_NAME,
      referencePrefix: e.REFERENCE_PREFIX,
      wijken,
      annualBudgetCents: e.ANNUAL_BUDGET_CENTS,
      maxAmountCents: e.MAX_AMOUNT_CENTS,
      infoDeadlineDays: e.INFO_DEADLINE_DAYS,
      infoReminderDays: e.INFO_REMINDER_DAYS,
      reportDeadlineDays: e.REPORT_DEADLINE_DAYS,
    },
    uploads: { maxBytes: e.MAX_UPLOAD_BYTES, maxFiles: e.MAX_UPLOAD_FILES },
    retention: {
      personalDataDays: e.RETENTION_PERSONAL_DAYS,
      financialYears: e.RETENTION_FINANCIAL_YEARS,
      schedule: e.RETENTION_SCHEDULE === 'true',
      scheduleId: e.RETENTION_SCHEDULE_ID,
    },
    payouts: {
      // Outside production a demo account (BNG Bank, where Dutch municipalities bank) so the files validate.
      debtor: { name: e.PAYOUT_DEBTOR_NAME, iban: e.PAYOUT_DEBTOR_IBAN ?? 'NL34BNGH0285000001', ...(e.PAYOUT_DEBTOR_BIC ? { bic: e.PAYOUT_DEBTOR_BIC } : e.PAYOUT_DEBTOR_IBAN ? {} : { bic: 'BNGHNL2G' }) },
    },
    meetings: {
      firstDate: e.MEETING_FIRST_DATE,
      time: e.MEETING_TIME,
      intervalDays: e.MEETING_INTERVAL_DAYS,
      cutoffDays: e.MEETING_CUTOFF_DAYS,
      schedule: e.MEETING_SCHEDULE === 'true',
      scheduleId: e.MEETING_SCHEDULE_ID,
      quorum: e.PANEL_QUORUM,
      majority: e.PANEL_MAJORITY,
      flagAfterRollovers: e.ROLLOVER_FLAG_AFTER,
    },
    support: { wijkOrganisations: wijkOrganisations.value! },
    reports: { focusWijken, maxAgeSeconds: e.REPORTS_MAX_AGE_SECONDS },
    readiness: { ledgerFullCheckSeconds: e.LEDGER_FULL_CHECK_SECONDS },
  };
}

/** For the entry points: the configuration, or a message naming the bad variable and exit 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    console.error(String((err as Error).message));
    process.exit(1);
  }
}
