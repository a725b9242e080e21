// Uploaded bytes become a bounded RGB raster, or are refused with a typed reason before any
// expensive work. No Temporal or database needed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, MAX_INPUT_PIXELS } from '../../src/verification/imageDecode';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const lfwPhoto = () => readFileSync(`${DATA}faces/lfw/Tiger_Woods/Tiger_Woods_0019.jpg`);

async function decodeError(bytes: Buffer): Promise<ImageDecodeError> {
  try {
    await decodeImage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageDecodeError);
    return err as ImageDecodeError;
  }
  throw new Error('decodeImage accepted the input');
}

/** A valid PNG header (signature + IHDR with a correct CRC) claiming width x height, and one tiny IDAT. */
function pngHeaderClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(tb));
    return Buffer.concat([len, tb, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodeImage', () => {
  it('decodes a JPEG to interleaved 8-bit RGB', async () => {
    const img = await decodeImage(lfwPhoto());
    expect(img).toMatchObject({ width: 250, height: 250, originalWidth: 250, originalHeight: 250, format: 'jpeg' });
    expect(img.data.length).toBe(250 * 250 * 3);
  });

  it('applies the EXIF orientation (a phone photo stored sideways comes out upright)', async () => {
    // silentface image_T1.jpg is stored 640x480 with EXIF orientation 6 (rotate 90°).
    const img = await decodeImage(readFileSync(`${DATA}liveness/live/silentface__image_T1.jpg`));
    expect([img.width, img.height]).toEqual([480, 640]);
    expect(img.hasExif).toBe(true);
  });

  it('shrinks large photos on load to the requested long side, keeping the original size on record', async () => {
    const img = await decodeImage(readFileSync(`${DATA}liveness/live/doubango-liveness__genuine.jpg`), { maxSide: 640 });
    expect(Math.max(img.width, img.height)).toBe(640);
    expect([img.originalWidth, img.originalHeight]).toEqual([1479, 1849]);
    expect(img.data.length).toBe(img.width * img.height * 3);
  });

  it('flattens transparency: a PNG with alpha still yields 3 channels', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const img = await decodeImage(png);
    expect(img.format).toBe('png');
    expect(img.data.length).toBe(40 * 30 * 3);
  });

  it('accepts WebP', async () => {
    const webp = await sharp(lfwPhoto()).webp().toBuffer();
    expect((await decodeImage(webp)).format).toBe('webp');
  });

  it('refuses an empty upload', async () => {
    expect((await decodeError(Buffer.alloc(0))).code).toBe('image_empty');
  });

  it('refuses text posing as a JPEG', async () => {
    expect((await decodeError(Buffer.from('this is not a photo, just text in a file named selfie.jpg'))).code).toBe('image_format_unsupported');
  });

  it('refuses formats it does not accept (GIF, SVG)', async () => {
    const gif = await sharp(lfwPhoto()).gif().toBuffer();
    expect((await decodeError(gif)).code).toBe('image_format_unsupported');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect((await decodeError(svg)).code).toBe('image_format_unsupported');
  });

  it('refuses a truncated JPEG instead of returning a half-grey image', async () => {
    const jpeg = readFileSync(`${DATA}liveness/live/doubango-liveness__genuine.jpg`);
    expect((await decodeError(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).code).toBe('image_unreadable');
  });

  it('refuses a decompression bomb (30000x30000 PNG header) from the header alone, fast', async () => {
    const bomb = pngHeaderClaiming(30000, 30000);
    expect(bomb.length).toBeLessThan(200);
    const t = performance.now();
    const err = await decodeError(bomb);
    expect(err.code).toBe('image_too_large');
    expect(performance.now() - t).toBeLessThan(500);
    expect(30000 * 30000).toBeGreaterThan(MAX_INPUT_PIXELS);
  });
});
