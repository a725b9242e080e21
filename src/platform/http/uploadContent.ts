// Whether an upload really is the file its Content-Type claims, checked before anything is stored.
// A signature (fileSignature.ts) alone lets through a JPEG signature followed by HTML, a
// truncated photo or a PDF that runs JavaScript when a reviewer opens it. Here an image must
// decode completely, as the claimed format, within a pixel budget; a PDF must be whole and inert
// (pdfActiveContent.ts). sharp decodes on libuv's thread pool, so the event loop stays free.
import sharp, { type Metadata } from 'sharp';
import { ApiError } from './errors';
import { FILE_TYPES, sniffFileType, type FileType } from './fileSignature';
import { inspectPdf } from './pdfActiveContent';

/** Above this many pixels (from the header, before decoding) an image is refused: a decompression bomb is a few KB. */
export const MAX_UPLOAD_PIXELS = 50_000_000;

/** The format sharp reports for each image type. */
const SHARP_FORMAT: Record<Exclude<FileType, 'application/pdf'>, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heif',
};
const LABEL_OF_SHARP_FORMAT: Record<string, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  heif: 'HEIC/AVIF',
  gif: 'GIF',
  svg: 'SVG',
  tiff: 'TIFF',
};

// Uploaded documents are personal data: libvips' operation cache must not keep their pixels.
sharp.cache(false);

type Options = { pointer?: string };

const refuse = (status: 400 | 413 | 415, code: string, detail: string, { pointer }: Options) =>
  new ApiError(status, { 400: 'Bad Request', 413: 'Payload Too Large', 415: 'Unsupported Media Type' }[status], detail, {
    code,
    ...(pointer ? { source: { pointer } } : {}),
  });

/** Cheap, before any lookup: the first bytes must be the claimed format. Throws 415 content_mismatch. */
export function checkFileSignature(bytes: Buffer, claimed: FileType, options: Options = {}): void {
  if (FILE_TYPES[claimed].matches(bytes)) return;
  const actual = sniffFileType(bytes);
  const is = actual ? `a ${FILE_TYPES[actual].label}` : `not a ${FILE_TYPES[claimed].label}`;
  throw refuse(415, 'content_mismatch', `the file is ${is}, but Content-Type says ${claimed}`, options);
}

/**
 * The whole file is what it claims, before it is stored: throws 415 content_mismatch, 413
 * image_too_large, or 400 invalid_file (does not decode completely) / active_content /
 * encrypted_file (PDFs).
 */
export async function checkFileContent(bytes: Buffer, claimed: FileType, options: Options = {}): Promise<void> {
  checkFileSignature(bytes, claimed, options);
  if (claimed === 'application/pdf') {
    const refusal = await inspectPdf(bytes);
    if (refusal) throw refuse(400, refusal.code, refusal.detail, options);
    return;
  }
  const label = FILE_TYPES[claimed].label;
  let meta: Metadata;
  try {
    // The header only: format and size, no pixel decoded yet.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw refuse(400, 'invalid_file', `the file starts like a ${label} but is not a readable image`, options);
  }
  if (meta.format !== SHARP_FORMAT[claimed]) {
    const actual = LABEL_OF_SHARP_FORMAT[meta.format ?? ''] ?? meta.format ?? 'unknown';
    throw refuse(415, 'content_mismatch', `the file is a ${actual} image, but Content-Type says ${claimed}`, options);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > MAX_UPLOAD_PIXELS)
    throw refuse(
      413,
      'image_too_large',
      `the image is ${meta.width}x${meta.height} (${Math.round(pixels / 1e6)} MP); the limit is ${MAX_UPLOAD_PIXELS / 1e6} MP`,
      options,
    );
  try {
    // Every pixel decoded (a small thumbnail, without shrink-on-load, streams through the whole
    // image without keeping it); any decoder warning refuses: a truncated or damaged file is not
    // handed to a reviewer. Not stats(): with other decodes running at once it misses the
    // decoder's warnings about half the time (a truncated JPEG passed).
    await sharp(bytes, { failOn: 'warning', limitInputPixels: MAX_UPLOAD_PIXELS, sequentialRead: true })
      .resize(64, 64, { fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: false })
      .raw()
      .toBuffer();
  } catch (err) {
    const why = ((err as Error).message ?? '').split('\n')[0].replace(/^Vips\w*:\s*/, '');
    throw refuse(
      400,
      'invalid_file',
      `the ${label} does not decode completely (${why || 'damaged'}); upload the original file again`,
      options,
    );
  }
}
