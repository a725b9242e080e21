// What an uploaded file must be before it is stored (platform/http/uploadContent): an image that
// decodes completely as the format claimed, or a PDF that is whole and does nothing on its own.
// The API-level refusals (nothing stored, the document unchanged) are in documents.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/platform/http/errors';
import { checkFileContent } from '../src/platform/http/uploadContent';
import { files } from './support/applicationFixtures';

/** The refusal as { status, code, detail }, or null when the file is accepted. */
const verdict = async (bytes: Buffer, type: Parameters<typeof checkFileContent>[1]) => {
  try {
    await checkFileContent(bytes, type);
    return null;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const [e] = err.toObjects();
    return { status: e.status, code: e.code, detail: e.detail };
  }
};

/** A PDF around the given objects (1 0 obj is the catalog) that ends in %%EOF. */
const pdf = (catalogExtra: string, ...objects: (string | Buffer)[]) =>
  Buffer.concat(
    [
      '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n',
      `1 0 obj\n<< /Type /Catalog /Pages 2 0 R ${catalogExtra} >>\nendobj\n`,
      '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n',
      ...objects.flatMap((o) => [o, '\n']),
      'trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n',
    ].map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, 'latin1'))),
  );
/** An object stream holding `objects` (pairs "number offset" computed here), compressed as most writers do. */
const objectStream = (id: number, objects: Record<number, string>, extraKeys = '') => {
  let offset = 0;
  const header: string[] = [];
  const body: string[] = [];
  for (const [n, text] of Object.entries(objects)) {
    header.push(`${n} ${offset}`);
    body.push(text);
    offset += text.length + 1;
  }
  const head = header.join(' ') + '\n';
  const packed = deflateSync(Buffer.from(head + body.join('\n')));
  return Buffer.concat([
    Buffer.from(
      `${id} 0 obj\n<< /Type /ObjStm /N ${header.length} /First ${head.length} /Filter /FlateDecode /Length ${packed.length} ${extraKeys}>>\nstream\n`,
    ),
    packed,
    Buffer.from('\nendstream\nendobj'),
  ]);
};
/** A stream object with the given data, its /Length direct or as an indirect object. */
const stream = (id: number, data: Buffer, { indirectLength = false, keys = '' } = {}) =>
  Buffer.concat([
    Buffer.from(`${id} 0 obj\n<< /Length ${indirectLength ? `${id + 1} 0 R` : data.length} ${keys}>>\nstream\n`),
    data,
    Buffer.from(`\nendstream\nendobj\n${indirectLength ? `${id + 1} 0 obj\n${data.length}\nendobj` : ''}`),
  ]);

describe('images decode completely as the type they claim', () => {
  it('real photos of documents from the shared corpus are accepted as what they are', async () => {
    const dir = join(__dirname, '../../shared/data/documents/passport');
    const photos = readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 5);
    expect(photos.length).toBeGreaterThan(0);
    for (const f of photos) expect(await verdict(readFileSync(join(dir, f)), 'image/jpeg'), f).toBeNull();
    expect(await verdict(files.png, 'image/png')).toBeNull();
  });

  it('a JPEG sent as image/png and a PNG sent as image/jpeg are refused with 415, naming what they are', async () => {
    expect(await verdict(files.jpeg, 'image/png')).toMatchObject({
      status: '415',
      code: 'content_mismatch',
      detail: expect.stringMatching(/a JPEG/),
    });
    expect(await verdict(files.png, 'image/jpeg')).toMatchObject({
      status: '415',
      code: 'content_mismatch',
      detail: expect.stringMatching(/a PNG/),
    });
  });

  it('a PNG cut short is refused (400 invalid_file)', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    expect(await verdict(png.subarray(0, png.length - 20), 'image/png')).toMatchObject({ status: '400', code: 'invalid_file' });
  });

  it('a JPEG with damaged image data is refused, not served half grey (400 invalid_file)', async () => {
    const noise = Buffer.from(Array.from({ length: 48 * 48 * 3 }, (_, i) => (i * 7919) % 251));
    const jpeg = await sharp(noise, { raw: { width: 48, height: 48, channels: 3 } })
      .jpeg()
      .toBuffer();
    // Half of the scan kept, then the end-of-image marker: the header and the end look right.
    const damaged = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length / 2)), Buffer.from([0xff, 0xd9])]);
    expect(await verdict(damaged, 'image/jpeg')).toMatchObject({ status: '400', code: 'invalid_file' });
  });
});

describe('PDFs are whole and inert', () => {
  const refusedFor = (detail: RegExp) => ({ status: '400', code: 'active_content', detail: expect.stringMatching(detail) });

  it('a plain PDF, one that opens on a page ([3 0 R /Fit]) or with a GoTo action as pdfTeX writes it, is accepted', async () => {
    expect(await verdict(files.pdf, 'application/pdf')).toBeNull();
    expect(await verdict(pdf('/OpenAction [3 0 R /Fit]'), 'application/pdf')).toBeNull();
    const goTo = pdf('/OpenAction 98 0 R', objectStream(7, { 98: '<< /S /GoTo /D [3 0 R /Fit] >>', 3: '<< /Type /Page >>' }));
    expect(await verdict(goTo, 'application/pdf')).toBeNull();
  });

  it('names that only appear in text, comments or image data do not count', async () => {
    const text = pdf('/Info << /Title (How /JavaScript and /JS work \\) in PDFs) /Subject <2F4A53> >>', '% /Launch in a comment');
    expect(await verdict(text, 'application/pdf')).toBeNull();
    // Image bytes contain "/JS " by chance in a few percent of large scans: skipped by /Length, direct or indirect.
    const pixels = Buffer.concat([Buffer.from([0x00, 0x2f, 0x4a, 0x53, 0x20, 0x2f, 0x41, 0x41, 0x0a, 0x28]), Buffer.alloc(64, 0x9c)]);
    expect(await verdict(pdf('', stream(5, pixels, { keys: '/Filter /DCTDecode ' })), 'application/pdf')).toBeNull();
    expect(await verdict(pdf('', stream(5, pixels, { indirectLength: true })), 'application/pdf')).toBeNull();
  });

  it.each([
    ['JavaScript', '/Names << /JavaScript 3 0 R >>', /JavaScript/],
    ['JavaScript, hex-escaped', '/AcroForm << /J#53 (app.alert(1)) >>', /JavaScript \(\/JS\)/],
    ['a launch action', '/Pages 2 0 R /X << /S /L#61#75nch /F (calc.exe) >>', /launches a program/],
    ['embedded files', '/Names << /EmbeddedFiles 3 0 R >>', /embedded files/],
    ['actions on page events', '/AA << /O 3 0 R >>', /opened, closed or viewed/],
    ['an XFA form', '/AcroForm << /XFA 3 0 R >>', /XFA/],
    ['rich media', '/X << /Subtype /RichMedia >>', /rich media/],
    ['an action run when opened (a web page)', '/OpenAction << /S /URI /URI (https://tracker.example) >>', /OpenAction/],
    ['a GoTo with another action chained to it', '/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next 9 0 R >>', /OpenAction/],
  ])('refuses %s', async (_what, catalog, detail) => {
    expect(await verdict(pdf(catalog), 'application/pdf')).toMatchObject(refusedFor(detail));
  });

  it('refuses active content hidden in a compressed object stream, or an /OpenAction pointing at an action there', async () => {
    const hidden = pdf('', objectStream(7, { 3: '<< /S /JavaScript /JS (app.alert(1)) >>' }));
    expect(await verdict(hidden, 'application/pdf')).toMatchObject(refusedFor(/JavaScript/));
    const uri = pdf('/OpenAction 98 0 R', objectStream(7, { 98: '<< /S /URI /URI (https://tracker.example) >>' }));
    expect(await verdict(uri, 'application/pdf')).toMatchObject(refusedFor(/OpenAction/));
  });

  it('refuses objects hidden in the data of another stream (for readers that "repair" files)', async () => {
    const smuggled = Buffer.from('junk\n9 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n');
    expect(await verdict(pdf('', stream(5, smuggled, { keys: '/Filter /DCTDecode ' })), 'application/pdf')).toMatchObject(
      refusedFor(/objects hidden in stream data/),
    );
  });

  it('refuses what it cannot read: encrypted files, object streams in other encodings, unclosed strings, no %%EOF', async () => {
    expect(
      await verdict(Buffer.from(pdf('').toString('latin1').replace('<< /Root', '<< /Encrypt 9 0 R /Root'), 'latin1'), 'application/pdf'),
    ).toMatchObject({
      status: '400',
      code: 'encrypted_file',
    });
    const lzw = pdf('', objectStream(7, { 3: '<< >>' }, '/DecodeParms << /Predictor 12 >> '));
    expect(await verdict(lzw, 'application/pdf')).toMatchObject({
      status: '400',
      code: 'invalid_file',
      detail: expect.stringMatching(/cannot be checked/),
    });
    expect(await verdict(pdf('/Title (never closed'), 'application/pdf')).toMatchObject({ status: '400', code: 'invalid_file' });
    const whole = pdf('');
    expect(await verdict(whole.subarray(0, whole.length - 7), 'application/pdf')).toMatchObject({
      status: '400',
      code: 'invalid_file',
      detail: expect.stringMatching(/%%EOF/),
    });
    expect(await verdict(Buffer.from('<html>%PDF-1.4</html>'), 'application/pdf')).toMatchObject({
      status: '415',
      code: 'content_mismatch',
    });
  });
});
