/** The admin manages the panel: members are staff with role `panel`; one of them chairs. API and pages share it. */
import { randomUUID } from 'node:crypto';
import { recordAudit } from './audit.ts';
import argon2 from 'argon2';
import { AppError } from '../domain/errors.ts';
import { isDuplicateKeyError, type Models, type StaffUserDoc } from '../db/models.ts';

export interface PanelMember {
  id: string;
  email: string;
  name: string;
  chair: boolean;
  active: boolean;
}

/** Who did it, for the audit log. */
export interface AdminActor {
  userId: string;
  requestId?: string;
}

const view = (u: Pick<StaffUserDoc, '_id' | 'email' | 'name' | 'chair' | 'active'>): PanelMember => ({ id: u._id, email: u.email, name: u.name, chair: u.chair, active: u.active });

export class PanelService {
  private readonly models: Models;
  constructor(models: Models) {
    this.models = models;
  }

  async members(): Promise<PanelMember[]> {
    const users = await this.models.StaffUser.find({ role: 'panel' }).sort({ email: 1 }).lean();
    return users.map(view);
  }

  async add(input: { email: string; name: string; password: string }, by: AdminActor): Promise<PanelMember> {
    const doc = { _id: randomUUID(), email: input.email.toLowerCase(), name: input.name, role: 'panel' as const, chair: false, active: true, passwordHash: await argon2.hash(input.password), createdAt: new Date() };
    try {
      await this.models.StaffUser.create(doc);
    } catch (e) {
      if (isDuplicateKeyError(e)) throw new AppError(409, 'email_taken', [{ path: 'email', code: 'email_taken' }]);
      throw e;
    }
    await this.audit(by, 'panel.member_added', doc._id, { email: doc.email, name: doc.name });
    return view(doc);
  }

  /** No login, not on the next agendas; their tokens stop working. */
  async deactivate(id: string, by: AdminActor): Promise<PanelMember> {
    const u = await this.member(id);
    await this.models.StaffUser.updateOne({ _id: id }, { $set: { active: false, chair: false } });
    await this.audit(by, 'panel.member_deactivated', id);
    return view({ ...u, active: false, chair: false });
  }

  /** The new chair (from the next agenda on); the previous chair steps down. */
  async nameChair(id: string, by: AdminActor): Promise<PanelMember> {
    const u = await this.member(id);
    if (!u.active) throw new AppError(409, 'invalid_state', [{ code: 'member_inactive' }]);
    await this.models.StaffUser.updateMany({ role: 'panel', chair: true, _id: { $ne: id } }, { $set: { chair: false } });
    await this.models.StaffUser.updateOne({ _id: id }, { $set: { chair: true } });
    await this.audit(by, 'panel.chair_named', id);
    return view({ ...u, chair: true });
  }

  private async member(id: string) {
    const u = await this.models.StaffUser.findOne({ _id: id, role: 'panel' }).lean();
    if (!u) throw new AppError(404, 'not_found');
    return u;
  }

  private async audit(by: AdminActor, action: string, memberId: string, after?: unknown): Promise<void> {
    await recordAudit(this.models, { _id: randomUUID(), at: new Date(), actor: `staff:${by.userId}`, action, target: `staff:${memberId}`, after, requestId: by.requestId });
  }
}
