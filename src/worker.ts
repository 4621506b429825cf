/** Worker only (for deployments that run api and worker separately, e.g. docker-compose). */
import { runStandalone, startWorker } from './start.ts';

await runStandalone('buurtfonds-worker', startWorker);
