import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Models } from '../db/models.ts';
import type { DocumentStore } from '../documents/store.ts';
import type { TokenSigner } from '../auth/tokens.ts';
import type { IntakeService } from '../services/intake.ts';
import type { ApplicationService } from '../services/applications.ts';
import type { InitiativeCommands } from '../services/initiatives.ts';
import type { MeetingCommands } from '../services/meetings.ts';
import type { MeetingCalendar } from '../services/meeting-calendar.ts';
import type { PanelService } from '../services/panel.ts';
import type { StaffLogin } from '../services/staff-login.ts';
import type { BudgetLedger } from '../budget/ledger.ts';
import type { ReportTally } from '../reports/tally.ts';
import type { PayoutService } from '../payouts/service.ts';
import type { SupportService } from '../support/service.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface ApiDeps {
  config: Config;
  logger: Logger;
  models: Models;
  store: DocumentStore;
  signer: TokenSigner;
  intake: IntakeService;
  initiatives: InitiativeCommands;
  /** Reading applications and acting on them (the API routes and the web pages share it). */
  applications: ApplicationService;
  meetings: MeetingCommands;
  /** The calendar, meeting views, skip and move. */
  calendar: MeetingCalendar;
  panel: PanelService;
  /** Staff login with the per-account failed-login limit (the API route and the login page share it). */
  staffLogin: StaffLogin;
  ledger: BudgetLedger;
  /** The monitoring summary kept up to date incrementally (src/reports/tally.ts). */
  tally: ReportTally;
  payouts: PayoutService;
  /** Welfare support cases: the queue, claims, hand-overs, notes (src/support/service.ts). */
  support: SupportService;
  /** Rebuilds the meeting Schedule after a skip or move (absent when the schedule is off). */
  refreshSchedule?: () => Promise<void>;
  readiness: ReadinessCheck[];
  /** Signs the web forms' CSRF tokens (derived from AUTH_SECRET). */
  webSecret: string;
  /** Clock for validation ("activity not in the past"); tests may pin it. */
  now?: () => Date;
}
