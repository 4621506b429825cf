/** Test inputs: a valid application and small real files of each kind. */
import { strToU8, zipSync } from 'fflate';

export function validApplication(overrides: Record<string, unknown> = {}) {
  return {
    applicant: {
      name: 'Sanne de Vries',
      email: 'sanne@example.nl',
      phone: '070 123 4567',
      address: { street: 'Kerkstraat 1', postalCode: '2271 AB', city: 'Voorburg' },
    },
    title: 'Straatfeest Kerkstraat',
    description: 'Een straatfeest voor alle bewoners van de Kerkstraat om elkaar beter te leren kennen.',
    purposes: ['cohesion'] as ('cohesion' | 'safety' | 'liveability')[],
    wijken: ['Voorburg-Midden'],
    targetGroup: 'Bewoners van de Kerkstraat',
    expectedParticipants: 120,
    volunteers: 8,
    activity: { startDate: '2027-05-01', endDate: '2027-05-01', location: 'Kerkstraat' },
    budgetLines: [
      { description: 'Huur partytent', amountCents: 45_000 },
      { description: 'Springkussen', amountCents: 15_050 },
    ],
    amountRequestedCents: 60_050,
    coFunding: [{ source: 'Eigen bijdrage bewoners', amountCents: 10_000 }],
    wantsSupport: true,
    supportWish: 'Hulp bij het aanvragen van de vergunning',
    iban: 'NL91ABNA0417164300',
    accountHolder: 'S. de Vries',
    privacyConsent: true,
    ...overrides,
  };
}

export const pdfBytes = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

/** The smallest valid PNG (1x1). */
export const pngBytes = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

export const jpegBytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]);

export const csvBytes = Buffer.from('post;bedrag\nPartytent;450,00\nSpringkussen;150,50\n');

/** A Windows executable: "MZ" header and the PE signature. */
export const exeBytes = (() => {
  const b = Buffer.alloc(256);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
})();

/** An ELF binary header. */
export const elfBytes = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(120)]);

/** A minimal OpenDocument text: a zip whose first entry is the stored "mimetype". */
export function odtBytes(): Buffer {
  return Buffer.from(
    zipSync({
      mimetype: [strToU8('application/vnd.oasis.opendocument.text'), { level: 0 }],
      'content.xml': strToU8('<?xml version="1.0"?><office:document-content/>'),
    }),
  );
}
