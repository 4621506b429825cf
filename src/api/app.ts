import { randomUUID } from 'node:crypto';
import compression from 'compression';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { AppError } from '../domain/errors.ts';
import { authenticate, authorize } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { errorHandler } from './errors.ts';
import { buildOpenApi } from './openapi.ts';
import type { RouteSpec } from './route-spec.ts';
import { applicationRoutes } from './routes/applications.ts';
import { authRoutes } from './routes/auth.ts';
import { healthRoutes } from './routes/health.ts';
import { meetingRoutes } from './routes/meetings.ts';
import { panelRoutes } from './routes/panel.ts';
import { budgetRoutes } from './routes/budget.ts';
import { payoutRoutes } from './routes/payouts.ts';
import { auditRoutes } from './routes/audit.ts';
import { reportRoutes } from './routes/reports.ts';
import { supportRoutes } from './routes/support.ts';
import { privacyRoutes } from './routes/privacy.ts';
import { webPages } from '../web/pages/index.ts';
import { webRouter } from '../web/router.ts';

/** Log lines of a request about one application carry its id and workflow id. */
function applicationContext(req: express.Request): { applicationId?: string; workflowId?: string } {
  const id = req.params?.id;
  return typeof id === 'string' && req.originalUrl.startsWith('/api/v1/applications/') ? { applicationId: id, workflowId: `initiative-${id}` } : {};
}

const withApplicationContext: RequestHandler = (req, _res, next) => {
  const context = applicationContext(req);
  if (context.applicationId) req.log = req.log.child(context);
  next();
};

/** Every endpoint of the API, each with its authorisation rule. */
export function buildRoutes(deps: ApiDeps): RouteSpec[] {
  let doc: unknown;
  const routes: RouteSpec[] = [];
  const openapi = () => (doc ??= buildOpenApi(routes, { title: 'buurtfonds API', version: '1', serverUrl: deps.config.publicBaseUrl }));
  routes.push(...healthRoutes(deps, openapi), ...authRoutes(deps), ...applicationRoutes(deps), ...meetingRoutes(deps), ...panelRoutes(deps), ...budgetRoutes(deps), ...payoutRoutes(deps), ...auditRoutes(deps), ...reportRoutes(deps), ...supportRoutes(deps), ...privacyRoutes(deps));
  return routes;
}

export function createApp(deps: ApiDeps): { app: Express; routes: RouteSpec[] } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Evaluated again for the "request completed" line, when the route's :id is known.
      customProps: (req) => ({ requestId: req.id, ...applicationContext(req as express.Request) }),
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // No headers in the log: requests carry cookies and bearer tokens, responses Set-Cookie with sessions and access tokens.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.replace(/([?&]token=)[^&]*/, '$1[redacted]') }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(
    helmet({
      // Pages load scripts and styles from our own origin only: no inline script or style, no framing.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          ...(deps.config.env === 'production' ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      referrerPolicy: { policy: 'no-referrer' },
      frameguard: { action: 'deny' },
      strictTransportSecurity: deps.config.env === 'production',
    }),
  );
  app.use(compression());

  // The API and the pages are two routers: a request goes through one of them only.
  const api = express.Router();
  api.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));
  // Bearer tokens (and the status link's ?token=) are the API's; the pages use cookies.
  api.use('/api', authenticate(deps));
  const routes = buildRoutes(deps);
  for (const r of routes) {
    api[r.method](r.path, withApplicationContext, authorize(r.access, deps.support), ...(r.before ?? []), async (req, res) => {
      await r.handler(req, res);
    });
  }
  const web = webRouter(deps, webPages(deps, routes), deps.webSecret);
  const apiPaths = new Set(routes.filter((r) => !r.path.startsWith('/api/')).map((r) => r.path));
  app.use((req, res, next) => (req.path.startsWith('/api/') || apiPaths.has(req.path) ? api(req, res, next) : web(req, res, next)));
  app.use((_req, _res, next) => next(new AppError(404, 'not_found')));
  app.use(errorHandler);
  return { app, routes };
}
