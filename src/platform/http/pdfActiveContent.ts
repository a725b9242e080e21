// Whether an uploaded PDF is whole and inert: nothing in it runs, launches, submits, plays or
// carries another file when a reviewer opens it (PDF 32000-1 §12.6 actions, §7.11.4 embedded
// files, §12.7.8 XFA forms, Adobe's RichMedia extension).
//
// A search of the raw bytes for "/JavaScript" is not enough: names may hex-escape any character
// (/J#61vaScript is /JavaScript), dictionaries may sit compressed in object streams, and the
// bytes of an image stream contain a short name like /JS by chance in a few percent of large
// scans. So the file is read with a small lexer that takes strings, comments and names as a PDF
// reader does, skips stream data by its /Length, and reads inflated object streams the same way.
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';

export type PdfRefusal = { code: 'invalid_file' | 'active_content' | 'encrypted_file'; detail: string };

/** Names that make a PDF act on its own or carry something other than its pages, and how a person is told. */
const ACTIVE_NAMES: Record<string, string> = {
  JavaScript: 'JavaScript',
  JS: 'JavaScript',
  Launch: 'an action that launches a program',
  EmbeddedFile: 'an embedded file',
  EmbeddedFiles: 'embedded files',
  AA: 'actions triggered when it is opened, closed or viewed',
  RichMedia: 'rich media (Flash or video)',
  XFA: 'an XFA form',
  SubmitForm: 'an action that sends form data',
  ImportData: 'an action that imports data',
  GoToR: 'an action that opens another file',
  GoToE: 'an action that opens an embedded file',
  Rendition: 'a media action',
  Sound: 'a sound action',
  Movie: 'a movie action',
};
/** Run when the file opens; fine only when it picks the first view (see onlyPicksView). */
const OPEN_ACTION = 'OpenAction';
const STREAM_FILTERS = new Set(
  'FlateDecode Fl ASCIIHexDecode AHx ASCII85Decode A85 LZWDecode LZW RunLengthDecode RL CCITTFaxDecode CCF JBIG2Decode DCTDecode DCT JPXDecode Crypt'.split(
    ' ',
  ),
);

/** Readers look for %%EOF in the last 1024 bytes (PDF 32000-1 §7.5.5, Annex H). */
const EOF_WINDOW = 1024;
/** Inflated object streams together may be this many times the file's size, and no more than the cap. */
const INFLATE_FACTOR = 20;
const INFLATE_CAP = 64 * 1024 * 1024;

const inflateAsync = promisify(inflate);

// Byte classes of PDF 32000-1 §7.2.2: white-space, delimiters; every other byte is "regular".
const WHITE = 1;
const DELIMITER = 2;
const CLASS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) CLASS[c] = WHITE;
for (const c of Buffer.from('()<>[]{}/%', 'latin1')) CLASS[c] = DELIMITER;
const hexValue = (c: number | undefined) =>
  c === undefined ? -1 : c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

type Token =
  | { kind: 'name' | 'word'; value: string; at: number } // word: numbers and keywords (obj, R, stream, …)
  | { kind: 'open' | 'close' | 'openArray' | 'closeArray' | 'string'; at: number };

/** The file is not PDF syntax a reader could agree on. */
class Malformed extends Error {}
/** The file may be fine, but it is encoded in a way this check does not read. */
class Unreadable extends Error {}

/** The name in `b[start, end)` with each #xx replaced by the byte xx. */
function unescapeName(b: Buffer, start: number, end: number): string {
  const bytes: number[] = [];
  for (let i = start; i < end;) {
    const hi = b[i] === 0x23 && i + 2 < end ? hexValue(b[i + 1]) : -1;
    const lo = hi >= 0 ? hexValue(b[i + 2]) : -1;
    if (lo >= 0) {
      bytes.push(hi * 16 + lo);
      i += 3;
    } else bytes.push(b[i++]);
  }
  return Buffer.from(bytes).toString('latin1');
}

/** The token at or after `pos` and where the next one starts; null at `end`. */
function nextToken(b: Buffer, pos: number, end: number): { token: Token; next: number } | null {
  let i = pos;
  for (;;) {
    while (i < end && CLASS[b[i]] === WHITE) i++;
    if (i >= end) return null;
    if (b[i] !== 0x25 /* % */) break;
    while (i < end && b[i] !== 0x0a && b[i] !== 0x0d) i++; // a comment runs to the end of its line
  }
  const at = i;
  const c = b[i];
  if (c === 0x2f /* / */) {
    // A name: regular bytes, #xx standing for the byte xx (§7.3.5).
    let escaped = false;
    for (i++; i < end && CLASS[b[i]] === 0; i++) escaped ||= b[i] === 0x23;
    return { token: { kind: 'name', value: escaped ? unescapeName(b, at + 1, i) : b.toString('latin1', at + 1, i), at }, next: i };
  }
  if (c === 0x28 /* ( */) {
    // A literal string: balanced parentheses, a backslash escapes the byte after it (§7.3.4.2).
    for (let depth = 0; i < end; i++) {
      if (b[i] === 0x5c) i++;
      else if (b[i] === 0x28) depth++;
      else if (b[i] === 0x29 && --depth === 0) return { token: { kind: 'string', at }, next: i + 1 };
    }
    throw new Malformed(`the string at byte ${at} is never closed`);
  }
  if (c === 0x3c /* < */) {
    if (b[i + 1] === 0x3c) return { token: { kind: 'open', at }, next: i + 2 };
    const close = b.indexOf(0x3e, i);
    if (close < 0 || close >= end) throw new Malformed(`the hex string at byte ${at} is never closed`);
    return { token: { kind: 'string', at }, next: close + 1 };
  }
  if (c === 0x3e /* > */) {
    if (b[i + 1] === 0x3e) return { token: { kind: 'close', at }, next: i + 2 };
    throw new Malformed(`a stray ">" at byte ${at}`);
  }
  if (c === 0x5b) return { token: { kind: 'openArray', at }, next: i + 1 };
  if (c === 0x5d) return { token: { kind: 'closeArray', at }, next: i + 1 };
  if (CLASS[c] === DELIMITER) return { token: { kind: 'word', value: String.fromCharCode(c), at }, next: i + 1 };
  while (i < end && CLASS[b[i]] === 0) i++;
  return { token: { kind: 'word', value: b.toString('latin1', at, i), at }, next: i };
}

/** What the dictionary in front of a `stream` keyword says about its data. */
interface StreamDictionary {
  names: Set<string>;
  /** The words after the top-level keys in CAPTURED: `/Length 1234`, `/Length 12 0 R`, `/First 85`. */
  values: Map<string, string[]>;
}
const CAPTURED = new Set(['Length', 'First']);

interface ObjectStream {
  data: Buffer;
  deflated: boolean;
  /** Where its first object starts (/First); before it, pairs of object number and offset. */
  first: number | null;
}

interface Findings {
  /** The first active name met. */
  active: string | null;
  encrypted: boolean;
  objectStreams: ObjectStream[];
  /** Where each object ("N G") starts, for every definition met: /OpenAction references are judged at the end. */
  objectStarts: Map<string, { b: Buffer; at: number }[]>;
  openActionRefs: string[];
  /** An /OpenAction written in place that is an action; said only when nothing more precise was found. */
  openActionActs: boolean;
}

/** A captured value: an integer, a reference `N G R`, or null. */
function integerOrRef(words: string[] | undefined): number | { ref: string } | null {
  if (!words?.length || !/^\d+$/.test(words[0])) return null;
  return words[2] === 'R' ? { ref: `${words[0]} ${words[1]}` } : Number(words[0]);
}

function addStart(found: Findings, ref: string, b: Buffer, at: number) {
  const starts = found.objectStarts.get(ref);
  if (starts) starts.push({ b, at });
  else found.objectStarts.set(ref, [{ b, at }]);
}

/** Tokens read between two yields to the event loop: a hostile 10 MB file is a million tokens. */
const TOKENS_PER_SLICE = 5_000;
const DIGITS = /^\d+$/;

/** Reads the PDF objects in `b[start, end)`; a file's top level may hold streams, an object stream may not. */
async function readObjects(b: Buffer, start: number, end: number, top: boolean, found: Findings, lengths: () => Map<string, number>) {
  let pos = start;
  let count = 0;
  let depth = 0;
  let dict: StreamDictionary | null = null; // the outermost dictionary being read
  let closedDict: StreamDictionary | null = null; // ... set only right after it closed
  let capture: string[] | null = null;
  let number1 = ''; // the last two words, when they were integers: `N G obj`
  let number2 = '';
  let objectRef: string | null = null; // set right after `N G obj`
  for (let t = nextToken(b, pos, end); t; t = nextToken(b, pos, end)) {
    if (++count % TOKENS_PER_SLICE === 0) await new Promise(setImmediate);
    const { token } = t;
    pos = t.next;
    const justClosed = closedDict;
    closedDict = null;
    if (objectRef) addStart(found, objectRef, b, token.at);
    objectRef = null;
    if (token.kind === 'word' && capture && capture.length < 3 && /^(\d+|R)$/.test(token.value)) {
      capture.push(token.value);
      continue;
    }
    capture = null;
    if (token.kind !== 'word') number1 = number2 = '';
    switch (token.kind) {
      case 'name': {
        const name = token.value;
        if (ACTIVE_NAMES[name] !== undefined) found.active ??= name;
        if (name === OPEN_ACTION) openAction(b, pos, end, found);
        if (name === 'Encrypt') found.encrypted = true;
        if (dict && depth > 0) dict.names.add(name);
        if (dict && depth === 1 && CAPTURED.has(name)) dict.values.set(name, (capture = []));
        break;
      }
      case 'open':
        if (depth++ === 0) dict = { names: new Set(), values: new Map() };
        break;
      case 'close':
        if (depth === 0) throw new Malformed(`a stray ">>" at byte ${token.at}`);
        if (--depth === 0) closedDict = dict;
        break;
      case 'word':
        if (token.value === 'obj' && number1 && number2) objectRef = `${number1} ${number2}`;
        number1 = DIGITS.test(token.value) ? number2 : '';
        number2 = DIGITS.test(token.value) ? token.value : '';
        if (token.value !== 'stream') break;
        if (!top) throw new Malformed('an object stream holds a stream');
        if (!justClosed) throw new Malformed(`the stream at byte ${token.at} has no dictionary`);
        pos = skipStreamData(b, pos, end, justClosed, found, lengths);
        break;
      default:
    }
  }
}

/**
 * Whether the value at `pos` only picks the view a file opens on: a destination ([3 0 R /Fit])
 * or a GoTo action with nothing chained to it (/Next). pdfTeX writes the latter in every file.
 */
function onlyPicksView(b: Buffer, pos: number, end: number): boolean {
  const first = nextToken(b, pos, end);
  if (first?.token.kind === 'openArray') return true;
  if (first?.token.kind !== 'open') return false;
  let depth = 1;
  let type: string | null = null;
  let chained = false;
  let afterS = false;
  for (let t = nextToken(b, first.next, end); t && depth > 0; t = nextToken(b, t.next, end)) {
    const { token } = t;
    if (token.kind === 'open') depth++;
    else if (token.kind === 'close') depth--;
    else if (token.kind === 'name' && depth === 1) {
      if (afterS) type = token.value;
      afterS = token.value === 'S';
      chained ||= token.value === 'Next';
      continue;
    }
    afterS = false;
  }
  return depth === 0 && type === 'GoTo' && !chained;
}

/** An /OpenAction: fine when it only picks the first view; a reference is judged once every object has been read. */
function openAction(b: Buffer, pos: number, end: number, found: Findings) {
  const first = nextToken(b, pos, end);
  if (first?.token.kind === 'open' || first?.token.kind === 'openArray') {
    if (!onlyPicksView(b, pos, end)) found.openActionActs = true;
    return;
  }
  const second = first && nextToken(b, first.next, end);
  const third = second && nextToken(b, second.next, end);
  const [n, g, r] = [first, second, third].map((t) => (t?.token.kind === 'word' ? t.token.value : ''));
  if (/^\d+$/.test(n) && /^\d+$/.test(g) && r === 'R') found.openActionRefs.push(`${n} ${g}`);
  else found.openActionActs = true;
}

/** Skips a stream's data, keeping object streams to read, and answers where reading resumes. */
function skipStreamData(b: Buffer, pos: number, end: number, dict: StreamDictionary, found: Findings, lengths: () => Map<string, number>) {
  // The keyword is followed by CRLF or LF (readers take a lone CR too), then the data.
  let data = pos;
  if (b[data] === 0x0d) data++;
  if (b[data] === 0x0a) data++;
  const declared = integerOrRef(dict.values.get('Length'));
  const length = typeof declared === 'object' && declared ? lengths().get(declared.ref) : declared;
  let dataEnd = -1;
  if (length != null && data + length <= end) {
    // /Length counts when `endstream` follows it, as readers check.
    let after = data + length;
    while (after < end && CLASS[b[after]] === WHITE) after++;
    if (b.toString('latin1', after, after + 9) === 'endstream') dataEnd = data + length;
  }
  // Otherwise readers search for the keyword, and so does this.
  if (dataEnd < 0) dataEnd = b.indexOf('endstream', data, 'latin1');
  if (dataEnd < 0 || dataEnd >= end) throw new Malformed('a stream has no endstream');

  const { names } = dict;
  if (names.has('ObjStm') || (names.has('First') && names.has('N'))) {
    const filters = [...names].filter((n) => STREAM_FILTERS.has(n));
    if (filters.some((f) => f !== 'FlateDecode' && f !== 'Fl') || names.has('DecodeParms') || names.has('DP'))
      throw new Unreadable(`an object stream is encoded with ${filters.join(', ') || 'decode parameters'}`);
    const first = integerOrRef(dict.values.get('First'));
    found.objectStreams.push({
      data: b.subarray(data, dataEnd),
      deflated: filters.length > 0,
      first: typeof first === 'number' ? first : null,
    });
  } else if (/\d\s+\d+\s+obj\b/.test(b.toString('latin1', data, dataEnd))) {
    // Objects in another stream's data are there for readers that "repair" a file by searching
    // it for `N 0 obj`; no genuine file has them, and they would escape this check.
    found.active ??= 'objects hidden in stream data';
  }
  return dataEnd + 'endstream'.length;
}

/** Reads an (inflated) object stream: its objects, and how each begins. */
async function readObjectStream(objects: Buffer, first: number | null, found: Findings, lengths: () => Map<string, number>) {
  await readObjects(objects, 0, objects.length, false, found, lengths);
  if (first === null || first > objects.length) return;
  const header = objects
    .toString('latin1', 0, first)
    .trim()
    .split(/[\s\0]+/)
    .map(Number);
  for (let i = 0; i + 1 < header.length; i += 2) {
    if (Number.isInteger(header[i]) && Number.isInteger(header[i + 1])) addStart(found, `${header[i]} 0`, objects, first + header[i + 1]);
  }
}

/** `N G obj 1234 endobj` of the whole file: the values of indirect /Length entries. */
function indirectIntegers(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/(?<![\d.])(\d+)\s+(\d+)\s+obj\s+(\d+)\s+endobj/g)) out.set(`${m[1]} ${m[2]}`, Number(m[3]));
  return out;
}

const inWords = (name: string) =>
  name === OPEN_ACTION ? 'an action run when it is opened (/OpenAction)' : ACTIVE_NAMES[name] ? `${ACTIVE_NAMES[name]} (/${name})` : name;

/** Null when the PDF is whole and inert; otherwise why not, in words for the person uploading it. */
export async function inspectPdf(bytes: Buffer): Promise<PdfRefusal | null> {
  const invalid = (why: string): PdfRefusal => ({ code: 'invalid_file', detail: `the file is not a complete PDF: ${why}` });
  const activeContent = (name: string): PdfRefusal => ({
    code: 'active_content',
    detail: `the PDF contains ${inWords(name)}; upload a PDF without scripts, actions, forms, media or attachments (print it to PDF, or send a photo)`,
  });
  if (bytes.toString('latin1', 0, 5) !== '%PDF-') return invalid('it does not start with %PDF-');
  if (!bytes.subarray(Math.max(0, bytes.length - EOF_WINDOW)).includes('%%EOF'))
    return invalid('there is no %%EOF at its end (truncated?)');

  let lengths: Map<string, number> | undefined;
  const lazyLengths = () => (lengths ??= indirectIntegers(bytes.toString('latin1')));
  const found: Findings = {
    active: null,
    encrypted: false,
    objectStreams: [],
    objectStarts: new Map(),
    openActionRefs: [],
    openActionActs: false,
  };
  try {
    await readObjects(bytes, 0, bytes.length, true, found, lazyLengths);
    if (found.active) return activeContent(found.active);
    // Every PDF defines objects (its catalog at least): "%PDF-" and "%%EOF" around an HTML page is no PDF.
    if (found.objectStarts.size === 0) return invalid('it defines no objects (N G obj … endobj)');
    if (found.encrypted)
      return {
        code: 'encrypted_file',
        detail: 'the PDF is encrypted; upload it without a password or encryption so it can be checked and reviewed',
      };
    let budget = Math.min(INFLATE_CAP, bytes.length * INFLATE_FACTOR);
    for (const stream of found.objectStreams) {
      let objects = stream.data;
      if (stream.deflated) {
        try {
          objects = await inflateAsync(stream.data, { maxOutputLength: Math.max(1, budget) });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
            throw new Unreadable('its object streams inflate to too much data');
          throw new Malformed('an object stream does not decompress');
        }
        budget -= objects.length;
      }
      await readObjectStream(objects, stream.first, found, lazyLengths);
      if (found.active) return activeContent(found.active);
    }
    // Every definition of the object counts: an incremental update may replace it.
    const acts = (ref: string) => !(found.objectStarts.get(ref)?.every(({ b, at }) => onlyPicksView(b, at, b.length)) ?? false);
    return found.openActionActs || found.openActionRefs.some(acts) ? activeContent(OPEN_ACTION) : null;
  } catch (err) {
    if (err instanceof Malformed) return invalid(err.message);
    if (err instanceof Unreadable)
      return { code: 'invalid_file', detail: `the PDF cannot be checked: ${err.message}; save it again as a plain PDF` };
    throw err;
  }
}
