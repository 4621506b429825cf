export * from './initiative.ts';
export * from './initiative-signals.ts';
export * from './meeting.ts';
export * from './meeting-cutoff.ts';
export * from './retention.ts';
export * from './support.ts';
export * from './account-lock.ts';
