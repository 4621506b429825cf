import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { panelMemberInputSchema } from '../../domain/meeting-inputs.ts';
import type { AdminActor } from '../../services/panel.ts';
import type { ApiDeps } from '../deps.ts';
import { parseInput, parseParams } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });
const memberParams = z.object({ id: z.uuid() });
const memberSchema = z.object({ id: z.string(), email: z.string(), name: z.string(), chair: z.boolean(), active: z.boolean() });

/** Admin manages the panel: members are staff with role `panel`; one of them chairs. */
export function panelRoutes(deps: ApiDeps): RouteSpec[] {
  const { panel } = deps;
  const by = (req: Request): AdminActor => {
    if (req.principal?.kind !== 'staff') throw new AppError(403, 'forbidden');
    return { userId: req.principal.userId, requestId: String(req.id) };
  };

  return [
    {
      method: 'get',
      path: '/api/v1/panel/members',
      access: ['admin'],
      tag: 'panel',
      summary: 'The panel members, active and deactivated.',
      responses: { 200: { description: 'Members', schema: z.object({ members: z.array(memberSchema) }) }, 401: err('Not logged in'), 403: err('Not admin') },
      async handler(_req, res) {
        res.json({ members: await panel.members() });
      },
    },
    {
      method: 'post',
      path: '/api/v1/panel/members',
      access: ['admin'],
      tag: 'panel',
      summary: 'Add a panel member (a staff account with role panel).',
      request: { json: panelMemberInputSchema },
      responses: { 201: { description: 'Added', schema: memberSchema }, 401: err('Not logged in'), 403: err('Not admin'), 409: err('E-mail taken'), 422: err('Invalid') },
      async handler(req, res) {
        const body = parseInput(panelMemberInputSchema, req.body ?? {}, 'panel_member');
        res.status(201).json(await panel.add(body, by(req)));
      },
    },
    {
      method: 'post',
      path: '/api/v1/panel/members/:id/deactivate',
      access: ['admin'],
      tag: 'panel',
      summary: 'Deactivate a panel member: no login, not on the next agendas; their tokens stop working.',
      request: { params: memberParams },
      responses: { 200: { description: 'Deactivated', schema: memberSchema }, 401: err('Not logged in'), 403: err('Not admin'), 404: err('No such member') },
      async handler(req, res) {
        const { id } = parseParams(memberParams, req);
        res.json(await panel.deactivate(id, by(req)));
      },
    },
    {
      method: 'post',
      path: '/api/v1/panel/members/:id/chair',
      access: ['admin'],
      tag: 'panel',
      summary: 'Name the chair (from the next agenda on); the previous chair steps down.',
      request: { params: memberParams },
      responses: { 200: { description: 'The new chair', schema: memberSchema }, 401: err('Not logged in'), 403: err('Not admin'), 404: err('No such member'), 409: err('Member deactivated') },
      async handler(req, res) {
        const { id } = parseParams(memberParams, req);
        res.json(await panel.nameChair(id, by(req)));
      },
    },
  ];
}
