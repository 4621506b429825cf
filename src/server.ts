/** API only (for deployments that run api and worker separately, e.g. docker-compose). */
import { runStandalone, startApi } from './start.ts';

await runStandalone('buurtfonds-api', startApi);
