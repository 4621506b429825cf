import { randomBytes, randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { amsterdamYear } from './domain/dates.ts';
import type { Models, StaffRole } from './db/models.ts';
import type { BudgetLedger } from './budget/ledger.ts';

export const demoStaff: { email: string; name: string; role: StaffRole; chair?: boolean; organisation?: string }[] = [
  { email: 'admin@buurtfonds.test', name: 'Beheerder Gemeente', role: 'admin' },
  { email: 'financien@buurtfonds.test', name: 'Financiën Gemeente', role: 'finance' },
  { email: 'panel1@buurtfonds.test', name: 'Panellid 1', role: 'panel', chair: true },
  { email: 'panel2@buurtfonds.test', name: 'Panellid 2', role: 'panel' },
  { email: 'panel3@buurtfonds.test', name: 'Panellid 3', role: 'panel' },
  { email: 'panel4@buurtfonds.test', name: 'Panellid 4', role: 'panel' },
  { email: 'panel5@buurtfonds.test', name: 'Panellid 5', role: 'panel' },
  { email: 'welzijn1@buurtfonds.test', name: 'Opbouwwerker Woej', role: 'welfare', organisation: 'Woej' },
  { email: 'welzijn2@buurtfonds.test', name: 'Ondersteuner SenW', role: 'welfare', organisation: 'SenW' },
];

/** This year's budget: opens the year's ledger with the configured total, once (a total set later stays). */
export async function seedBudget(ledger: BudgetLedger, now = new Date()): Promise<void> {
  await ledger.open(amsterdamYear(now));
}

/**
 * Demo staff, idempotently. Returns the generated password when accounts were created
 * without DEMO_PASSWORD (so the caller prints it once); existing accounts are left alone.
 */
export async function seedDemoStaff(models: Models, config: Config, logger: Logger): Promise<string | undefined> {
  const missing = [];
  for (const s of demoStaff) if (!(await models.StaffUser.exists({ email: s.email }))) missing.push(s);
  if (missing.length === 0) return undefined;
  const generated = config.demo.password ? undefined : randomBytes(12).toString('base64url');
  const passwordHash = await argon2.hash(config.demo.password ?? generated!);
  for (const s of missing) {
    await models.StaffUser.updateOne(
      { email: s.email },
      { $setOnInsert: { _id: randomUUID(), name: s.name, role: s.role, chair: !!s.chair, organisation: s.organisation, active: true, passwordHash, createdAt: new Date() } },
      { upsert: true },
    );
  }
  logger.info({ accounts: missing.map((s) => s.email) }, 'demo staff seeded');
  return generated;
}
