import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Access } from './auth.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/** One endpoint: its path, its authorisation rule (declared here, enforced by the app), its schemas and handler. */
export interface RouteSpec {
  method: HttpMethod;
  path: string;
  access: readonly Access[];
  summary: string;
  tag: string;
  request?: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    headers?: z.ZodObject;
    json?: z.ZodType;
    multipart?: z.ZodType;
  };
  responses: Record<number, ResponseSpec>;
  /** Runs after authorisation, before the handler (e.g. the multipart parser). */
  before?: RequestHandler[];
  handler: (req: Request, res: Response) => Promise<void> | void;
}
