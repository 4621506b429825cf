/**
 * What the meeting tests share: a test context whose calendar starts at `firstDate`
 * (MEETING_FIRST_DATE), the admin's token, the tokens of the first `panelMembers` demo
 * panel members (`panel1`, …), every staff member's id by the name in their e-mail
 * address (`panel1`, `admin`, …), and `started`: the meeting workflows the test started,
 * which `close` terminates before it closes the context.
 */
import { createTestContext } from './context.ts';

export async function meetingTestContext(firstDate: string, panelMembers: number) {
  const ctx = await createTestContext({ env: { MEETING_FIRST_DATE: firstDate } });
  const admin = await ctx.staff.admin();
  const tokens: Record<string, string> = {};
  for (let n = 1; n <= panelMembers; n++) tokens[`panel${n}`] = await ctx.login(`panel${n}@buurtfonds.test`);
  const ids: Record<string, string> = {};
  for (const u of await ctx.models.StaffUser.find({}, { email: 1 }).lean()) ids[u.email.split('@')[0]!] = u._id;
  const started: string[] = [];
  async function close(): Promise<void> {
    for (const id of started) await ctx.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
    await ctx.close();
  }
  return { ctx, admin, tokens, ids, started, close };
}
