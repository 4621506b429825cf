import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { freePort } from '../../src/embedded/servers.ts';

export interface CapturedMail {
  to: string[];
  subject: string;
  text: string;
  messageId: string;
}

/** A real SMTP server in-process: the mails nodemailer delivers, parsed. */
export async function startMailCatcher() {
  const mails: CapturedMail[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((m) => {
          const to = (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));
          mails.push({ to, subject: m.subject ?? '', text: m.text ?? '', messageId: m.messageId ?? '' });
          waiters.splice(0).forEach((w) => w());
          callback();
        })
        .catch(callback);
    },
  });
  // A sender killed mid-mail (the chaos test SIGKILLs workers) resets its connection: that is the sender's end, not ours.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** Waits until a mail matching `pred` has arrived. */
    async waitFor(pred: (m: CapturedMail) => boolean, timeoutMs = 15_000): Promise<CapturedMail> {
      const deadline = Date.now() + timeoutMs * 2; // files run side by side (test/helpers/context.ts WAIT_SLACK)
      for (;;) {
        const found = mails.find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no such mail within ${timeoutMs} ms; got: ${mails.map((m) => m.subject).join(' | ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
