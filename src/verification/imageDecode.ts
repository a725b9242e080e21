// Turns uploaded bytes into a bounded RGB raster, or refuses them with a typed reason.
//
// Decoding is the slowest stage of the face path, so the image is shrunk while it is
// being decoded (libjpeg shrink-on-load when sharp resizes a JPEG by >= 2x) to a long
// side of at most `maxSide` pixels. The pixel count is checked from the header before
// any pixel is decoded, so a decompression bomb (e.g. a 30000x30000 PNG of a few KB)
// is refused without allocating its raster.
import sharp, { type Metadata } from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'heif';

export interface DecodedImage {
  /** RGB, 8 bits per channel, interleaved, row-major, no padding: length = width * height * 3. */
  data: Buffer;
  width: number;
  height: number;
  /** Size of the upright (EXIF-rotated) original before shrinking. */
  originalWidth: number;
  originalHeight: number;
  format: ImageFormat;
  /** Whether the file carried EXIF metadata (camera captures usually do; screenshots and re-encodes usually don't). */
  hasExif: boolean;
}

export type ImageDecodeErrorCode = 'image_empty' | 'image_unreadable' | 'image_too_large' | 'image_format_unsupported';

export class ImageDecodeError extends Error {
  constructor(
    readonly code: ImageDecodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/** Above this many pixels (width x height, from the header) the image is refused before decoding. */
export const MAX_INPUT_PIXELS = 50_000_000;
/** Above this many bytes the upload is refused without parsing. */
export const MAX_INPUT_BYTES = 25 * 1024 * 1024;
/** Default bound on the long side of the decoded raster. */
export const DEFAULT_MAX_SIDE = 1280;

const ACCEPTED: Record<string, ImageFormat> = { jpeg: 'jpeg', png: 'png', webp: 'webp', heif: 'heif' };

sharp.cache(false); // decoded images are used once; libvips' operation cache only grows RSS

export async function decodeImage(bytes: Buffer, opts: { maxSide?: number } = {}): Promise<DecodedImage> {
  const maxSide = opts.maxSide ?? DEFAULT_MAX_SIDE;
  if (!bytes || bytes.length === 0) throw new ImageDecodeError('image_empty', 'The image is empty (0 bytes).');
  if (bytes.length > MAX_INPUT_BYTES) {
    throw new ImageDecodeError(
      'image_too_large',
      `The file is ${(bytes.length / 1048576).toFixed(1)} MB; the limit is ${MAX_INPUT_BYTES / 1048576} MB.`,
    );
  }

  // Header only: format and dimensions, no pixel decoding.
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageDecodeError('image_format_unsupported', 'The file is not a recognised image (JPEG, PNG, WebP or HEIC expected).');
  }
  const format = meta.format ? ACCEPTED[meta.format] : undefined;
  if (!format) {
    throw new ImageDecodeError(
      'image_format_unsupported',
      `Image format ${meta.format ?? 'unknown'} is not accepted; use JPEG, PNG, WebP or HEIC.`,
    );
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w <= 0 || h <= 0) throw new ImageDecodeError('image_unreadable', 'The image header has no valid dimensions.');
  if (w * h > MAX_INPUT_PIXELS) {
    throw new ImageDecodeError(
      'image_too_large',
      `The image is ${w}x${h} (${((w * h) / 1e6).toFixed(0)} MP); the limit is ${MAX_INPUT_PIXELS / 1e6} MP.`,
    );
  }
  const swap = (meta.orientation ?? 1) >= 5; // EXIF orientations 5-8 transpose the image
  const originalWidth = swap ? h : w;
  const originalHeight = swap ? w : h;

  try {
    const { data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true })
      .rotate()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    return { data, width: info.width, height: info.height, originalWidth, originalHeight, format, hasExif: !!meta.exif };
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    if (/pixel limit/i.test(msg)) throw new ImageDecodeError('image_too_large', `The image exceeds ${MAX_INPUT_PIXELS / 1e6} MP.`);
    if (format === 'heif' && /heif|compression format|codec/i.test(msg)) {
      throw new ImageDecodeError('image_format_unsupported', 'This HEIC/HEIF variant cannot be decoded here; please upload a JPEG.');
    }
    throw new ImageDecodeError('image_unreadable', `The image could not be decoded completely (${msg.split('\n')[0]}).`);
  }
}
