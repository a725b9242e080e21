// Uploaded bytes become a bounded RGB raster, or are refused with a typed reason before any
// expensive work. No Temporal or database needed.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, MAX_INPUT_PIXELS } from '../../src/verification/imageDecode';
import { dataFile, pngBomb } from '../support/verificationFixtures';

const lfwPhoto = () => dataFile('faces/lfw/Tiger_Woods/Tiger_Woods_0019.jpg');

async function decodeError(bytes: Buffer): Promise<ImageDecodeError> {
  try {
    await decodeImage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageDecodeError);
    return err as ImageDecodeError;
  }
  throw new Error('decodeImage accepted the input');
}

describe('decodeImage', () => {
  it('decodes a JPEG to interleaved 8-bit RGB', async () => {
    const img = await decodeImage(lfwPhoto());
    expect(img).toMatchObject({ width: 250, height: 250, originalWidth: 250, originalHeight: 250, format: 'jpeg' });
    expect(img.data.length).toBe(250 * 250 * 3);
  });

  it('applies the EXIF orientation (a phone photo stored sideways comes out upright)', async () => {
    // silentface image_T1.jpg is stored 640x480 with EXIF orientation 6 (rotate 90°).
    const img = await decodeImage(dataFile('liveness/live/silentface__image_T1.jpg'));
    expect([img.width, img.height]).toEqual([480, 640]);
    expect(img.hasExif).toBe(true);
  });

  it('shrinks large photos on load to the requested long side, keeping the original size on record', async () => {
    const img = await decodeImage(dataFile('liveness/live/doubango-liveness__genuine.jpg'), { maxSide: 640 });
    expect(Math.max(img.width, img.height)).toBe(640);
    expect([img.originalWidth, img.originalHeight]).toEqual([1479, 1849]);
    expect(img.data.length).toBe(img.width * img.height * 3);
  });

  it('flattens transparency: a PNG with alpha still yields 3 channels', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toBuffer();
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
    expect((await decodeError(Buffer.from('this is not a photo, just text in a file named selfie.jpg'))).code).toBe(
      'image_format_unsupported',
    );
  });

  it('refuses formats it does not accept (GIF, SVG)', async () => {
    const gif = await sharp(lfwPhoto()).gif().toBuffer();
    expect((await decodeError(gif)).code).toBe('image_format_unsupported');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect((await decodeError(svg)).code).toBe('image_format_unsupported');
  });

  it('refuses a truncated JPEG instead of returning a half-grey image', async () => {
    const jpeg = dataFile('liveness/live/doubango-liveness__genuine.jpg');
    expect((await decodeError(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).code).toBe('image_unreadable');
  });

  it('refuses a decompression bomb (30000x30000 PNG header) from the header alone, fast', async () => {
    // A valid PNG signature and IHDR (correct CRC) claiming 30000x30000, and one tiny IDAT.
    const bomb = pngBomb(30000, 30000);
    expect(bomb.length).toBeLessThan(200);
    const t = performance.now();
    const err = await decodeError(bomb);
    expect(err.code).toBe('image_too_large');
    expect(performance.now() - t).toBeLessThan(500);
    expect(30000 * 30000).toBeGreaterThan(MAX_INPUT_PIXELS);
  });
});
