export * from './initiative.ts';
