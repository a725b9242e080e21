// Real images for the verification-job tests, read from the shared data set (never copied into
// the repo), and the crafted bad inputs. Paths are relative to the repo root: ../shared/data.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA_DIR = resolve(REPO_ROOT, '../shared/data');

const cache = new Map<string, Buffer>();
/** Bytes of a file under ../shared/data (e.g. `faces/lfw/Emmit_Smith/Emmit_Smith_0001.jpg`). */
export function dataFile(rel: string): Buffer {
  let b = cache.get(rel);
  if (!b) cache.set(rel, (b = readFileSync(resolve(DATA_DIR, rel))));
  return b;
}

export const lfw = (name: string, n: number) => `faces/lfw/${name}/${name}_${String(n).padStart(4, '0')}.jpg`;

/**
 * Genuine pairs (two different photos of one person, each with a single face; standard LFW
 * pairsDevTrain "same" rows) and impostor pairs (pairsDevTrain "different" rows).
 */
export const GENUINE_PAIRS: [string, string][] = [
  [lfw('Emmit_Smith', 1), lfw('Emmit_Smith', 2)],
  [lfw('Raquel_Welch', 1), lfw('Raquel_Welch', 2)],
];
export const IMPOSTOR_PAIRS: [string, string][] = [
  [lfw('Dale_Earnhardt', 1), lfw('Roy_Halladay', 1)],
  [lfw('Iain_Duncan_Smith', 2), lfw('Ted_Maher', 2)],
];
/** A selfie-like photo with one face. */
export const SELFIE = lfw('Mark_Hamister', 1);

export const DOCUMENTS = {
  /** ICAO 9303 TD3 example passport (Utopia), valid MRZ, expired 2012-04-15. */
  passport: 'documents/passport/passporteye__passport-td3.jpg',
  /** California sample driving licence (no MRZ), expired 2014. */
  driversLicense: 'documents/driver_license/usdl-samples__California_s.jpg',
  /** ICAO TD1 example identity card (Utopia), MRZ, expired. */
  idCard: 'documents/id_card/fastmrz__td1.jpg',
  /** Back of a German identity card: MRZ only, no portrait. */
  noPortrait: 'documents/national_id/passporteye__53_id-d.jpg',
};
/** The passport's MRZ (ICAO 9303 part 4 example), as published. */
export const PASSPORT_MRZ = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];

export const LIVENESS = {
  /** Silent-Face sample: printed photo held up to a phone camera. */
  printSpoof: 'liveness/spoof/silentface__image_F1.jpg',
  /** Silent-Face sample: a real person. */
  live: 'liveness/live/silentface__image_T1.jpg',
};

/** A page with no face at all (an invoice). */
export const NO_FACE = 'documents/other/mindee__classification_default_sample.jpg';

/** A card-like "ID": the portrait on the left of a light 856x540 canvas with a few dark bars for text. */
export async function syntheticIdCard(portrait: Buffer): Promise<Buffer> {
  // 'contain': a non-square photo keeps the whole face (a 'cover' crop can cut it off).
  const face = await sharp(portrait)
    .resize(260, 260, { fit: 'contain', background: '#e4ebf2' })
    .flatten({ background: '#e4ebf2' })
    .toBuffer();
  const bar = (w: number) =>
    sharp({ create: { width: w, height: 18, channels: 3, background: '#333340' } })
      .png()
      .toBuffer();
  const bars = await Promise.all([320, 260, 300, 200].map(bar));
  return sharp({ create: { width: 856, height: 540, channels: 3, background: '#e4ebf2' } })
    .composite([{ input: face, left: 40, top: 140 }, ...bars.map((b, i) => ({ input: b, left: 340, top: 160 + i * 50 }))])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Two different people side by side in one photo. */
export async function twoFacesPhoto(): Promise<Buffer> {
  const [a, b] = await Promise.all(IMPOSTOR_PAIRS[0].map((f) => sharp(dataFile(f)).toBuffer()));
  return sharp({ create: { width: 500, height: 250, channels: 3, background: '#808080' } })
    .composite([
      { input: a, left: 0, top: 0 },
      { input: b, left: 250, top: 0 },
    ])
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** The first 40 % of a real JPEG: valid header, missing scan data and end marker. */
export function truncatedJpeg(): Buffer {
  const full = dataFile(GENUINE_PAIRS[0][0]);
  return full.subarray(0, Math.floor(full.length * 0.4));
}

/** Plain text with a .jpg name and an image/jpeg content type. */
export const TEXT_AS_JPEG = Buffer.from('This is not a picture of anyone, just text pretending to be a JPEG.\n'.repeat(20));

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A valid-looking PNG of a few hundred bytes whose IHDR claims width x height (a decompression bomb). */
export function pngBomb(width = 30_000, height = 30_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))), // a few rows of zeros; the rest is "missing"
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The end user's consent as a capture page relays it (every job carries one): JSON attributes.consent. */
export const consent = () => ({ textVersion: 'test-notice-2026-12', acceptedAt: new Date().toISOString() });
/** The same as multipart text fields. */
export const consentFields = (): Record<string, string> => ({
  consentTextVersion: 'test-notice-2026-12',
  consentAcceptedAt: new Date().toISOString(),
});

/** Multipart body for POST /verification-jobs; with the user's consent unless `withConsent` is false. */
export function jobForm(files: Record<string, Buffer | Buffer[]>, fields: Record<string, string> = {}, withConsent = true): FormData {
  const form = new FormData();
  if (withConsent) for (const [k, v] of Object.entries(consentFields())) if (!(k in fields)) form.append(k, v);
  for (const [name, value] of Object.entries(files)) {
    for (const [i, b] of (Array.isArray(value) ? value : [value]).entries()) {
      form.append(name, new Blob([new Uint8Array(b)], { type: 'image/jpeg' }), `${name}-${i}.jpg`);
    }
  }
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}
