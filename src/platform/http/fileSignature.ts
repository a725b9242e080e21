// What an uploaded file is, from its first bytes (the declared content type is not trusted).
// One list for every upload path: document uploads and verification-job images. The signature
// only tells formats apart; uploadContent.ts checks that the whole file is what it claims.
// `extension` names the file when it is downloaded (never the uploader's own file name).

export const FILE_TYPES = {
  'image/jpeg': {
    label: 'JPEG',
    extension: 'jpg',
    matches: (b: Buffer) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  },
  'image/png': {
    label: 'PNG',
    extension: 'png',
    matches: (b: Buffer) => b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  'image/webp': {
    label: 'WebP',
    extension: 'webp',
    matches: (b: Buffer) => b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
  },
  'image/heic': {
    label: 'HEIC',
    extension: 'heic',
    matches: (b: Buffer) =>
      b.length >= 12 &&
      b.toString('latin1', 4, 8) === 'ftyp' &&
      /^(heic|heix|hevc|heim|heis|mif1|msf1|avif)$/.test(b.toString('latin1', 8, 12)),
  },
  'application/pdf': { label: 'PDF', extension: 'pdf', matches: (b: Buffer) => b.length >= 5 && b.toString('latin1', 0, 5) === '%PDF-' },
} as const;

export type FileType = keyof typeof FILE_TYPES;

/** The type the bytes are, among `accepted`; null when they are none of them. */
export function sniffFileType(bytes: Buffer, accepted: readonly FileType[] = Object.keys(FILE_TYPES) as FileType[]): FileType | null {
  return accepted.find((t) => FILE_TYPES[t].matches(bytes)) ?? null;
}

export const isFileType = (type: string): type is FileType => Object.hasOwn(FILE_TYPES, type);
