/**
 * Proof that a path reads by key: a connection with the driver's command monitoring, and
 * the filters of the commands sent since a point that have no condition on `_id` (on our
 * FerretDB any other filter reads the whole collection: NOTES.md "Finding data").
 */
import type { CommandStartedEvent } from 'mongodb';
import { connectDatabase, type Models } from '../../src/db/models.ts';

export interface MonitoredDatabase {
  models: Models;
  commands: CommandStartedEvent[];
}

/** A connection to `dbName` that records every command it sends. */
export async function monitoredDatabase(uri: string, dbName: string): Promise<MonitoredDatabase> {
  const models = await connectDatabase(uri, dbName, { monitorCommands: true });
  const commands: CommandStartedEvent[] = [];
  models.connection.getClient().on('commandStarted', (e) => commands.push(e));
  return { models, commands };
}

/**
 * The filters of the queries sent since `from` that have no condition on `_id` (aggregations
 * and distincts always count). A filter with an `_id` condition and other keys is answered
 * from the `_id` index and the rest checked on what it returns (scripts/ferretdb/README.md).
 */
export function notById(db: { commands: readonly CommandStartedEvent[] }, from: number): { collection: unknown; filter: unknown }[] {
  const filtersOf = (e: CommandStartedEvent): unknown[] => {
    const c = e.command;
    if (e.commandName === 'find') return [c.filter ?? {}];
    if (e.commandName === 'count') return [c.query ?? {}];
    if (e.commandName === 'delete') return (c.deletes as { q: unknown }[]).map((d) => d.q);
    if (e.commandName === 'update') return (c.updates as { q: unknown }[]).map((u) => u.q);
    if (e.commandName === 'findAndModify') return [c.query ?? {}];
    if (e.commandName === 'aggregate' || e.commandName === 'distinct') return [{ [e.commandName]: c[e.commandName] }];
    return [];
  };
  return db.commands
    .slice(from)
    .flatMap((e) => filtersOf(e).map((f) => ({ collection: e.command[e.commandName], filter: f })))
    .filter(({ filter }) => !Object.keys(filter as object).includes('_id'));
}

/** The names of the commands sent since `from` (to show a path sent any at all). */
export const commandsSince = (db: { commands: readonly CommandStartedEvent[] }, from: number): string[] => db.commands.slice(from).map((e) => e.commandName);
