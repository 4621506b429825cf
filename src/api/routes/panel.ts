import { randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { panelMemberInputSchema } from '../../domain/meeting-inputs.ts';
import { isDuplicateKeyError } from '../../db/models.ts';
import type { ApiDeps } from '../deps.ts';
import { parseWith } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });
const memberParams = z.object({ id: z.uuid() });
const memberSchema = z.object({ id: z.string(), email: z.string(), name: z.string(), chair: z.boolean(), active: z.boolean() });

/** Admin manages the panel: members are staff with role `panel`; one of them chairs. */
export function panelRoutes(deps: ApiDeps): RouteSpec[] {
  const { StaffUser, Audit } = deps.models;
  const view = (u: { _id: string; email: string; name: string; chair: boolean; active: boolean }) => ({ id: u._id, email: u.email, name: u.name, chair: u.chair, active: u.active });
  const audit = (req: Parameters<RouteSpec['handler']>[0], action: string, target: string, after?: unknown) =>
    Audit.create({ _id: randomUUID(), at: new Date(), actor: req.principal?.kind === 'staff' ? `staff:${req.principal.userId}` : 'unknown', action, target, after, requestId: String(req.id) });

  async function member(id: string) {
    const u = await StaffUser.findOne({ _id: id, role: 'panel' }).lean();
    if (!u) throw new AppError(404, 'not_found');
    return u;
  }

  return [
    {
      method: 'get',
      path: '/api/v1/panel/members',
      access: ['admin'],
      tag: 'panel',
      summary: 'The panel members, active and deactivated.',
      responses: { 200: { description: 'Members', schema: z.object({ members: z.array(memberSchema) }) }, 401: err('Not logged in'), 403: err('Not admin') },
      async handler(_req, res) {
        const users = await StaffUser.find({ role: 'panel' }).sort({ email: 1 }).lean();
        res.json({ members: users.map(view) });
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
        const body = parseWith(panelMemberInputSchema, req.body ?? {}, req);
        const doc = { _id: randomUUID(), email: body.email.toLowerCase(), name: body.name, role: 'panel' as const, chair: false, active: true, passwordHash: await argon2.hash(body.password), createdAt: new Date() };
        try {
          await StaffUser.create(doc);
        } catch (e) {
          if (isDuplicateKeyError(e)) throw new AppError(409, 'email_taken', [{ path: 'email', code: 'email_taken' }]);
          throw e;
        }
        await audit(req, 'panel.member_added', `staff:${doc._id}`, { email: doc.email, name: doc.name });
        res.status(201).json(view(doc));
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
        const { id } = parseWith(memberParams, req.params, req, ['params']);
        const u = await member(id);
        await StaffUser.updateOne({ _id: id }, { $set: { active: false, chair: false } });
        await audit(req, 'panel.member_deactivated', `staff:${id}`);
        res.json(view({ ...u, active: false, chair: false }));
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
        const { id } = parseWith(memberParams, req.params, req, ['params']);
        const u = await member(id);
        if (!u.active) throw new AppError(409, 'invalid_state', [{ code: 'member_inactive' }]);
        await StaffUser.updateMany({ role: 'panel', chair: true, _id: { $ne: id } }, { $set: { chair: false } });
        await StaffUser.updateOne({ _id: id }, { $set: { chair: true } });
        await audit(req, 'panel.chair_named', `staff:${id}`);
        res.json(view({ ...u, chair: true }));
      },
    },
  ];
}
