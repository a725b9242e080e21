// The embedded default (DATABASE_URL unset): PostgreSQL (PGlite) on a thread of its own,
// persisted under DATA_DIR, migrated on open, and served on loopback only to clients that
// prove the password generated under DATA_DIR (SCRAM-SHA-256, as a real server does).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config';
import { embeddedPasswordFile } from '../src/platform/database/embeddedPassword';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/platform/database/embeddedPostgres';
import { openDatabase } from '../src/platform/database/open';

describe('embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'engine-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps what was written across a restart, and gives each of many concurrent queries its own answer', async () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = await openDatabase(config);
    const org = await first.db.insertInto('orgs').values({ name: 'Persisted Org' }).returning('id').executeTakeFirstOrThrow();
    // Several pooled connections at once: every answer is its own query's.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => first.db.selectNoFrom((eb) => eb.val(i).as('n')).executeTakeFirstOrThrow()),
    );
    expect(answers.map((a) => Number(a.n))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await first.close();

    const again = await openDatabase(config);
    try {
      const row = await again.db.selectFrom('orgs').select('name').where('id', '=', org.id).executeTakeFirst();
      expect(row?.name).toBe('Persisted Org');
    } finally {
      await again.close();
    }
  }, 60_000);

  it('generates its password under DATA_DIR on first run, readable by the owner only, and keeps it across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-embedded-password-'));
    try {
      const first = await startEmbeddedPostgres(dir);
      await first.stop();
      const file = embeddedPasswordFile(dir);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      expect(decodeURIComponent(new URL(first.url).password)).toBe(password);

      const again = await startEmbeddedPostgres(dir);
      try {
        expect(decodeURIComponent(new URL(again.url).password)).toBe(password);
        expect(await selectOne(again.url)).toBe(1);
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a database in memory a fresh password each start', async () => {
    const a = await startEmbeddedPostgres('memory');
    const b = await startEmbeddedPostgres('memory');
    await Promise.all([a.stop(), b.stop()]);
    expect(new URL(a.url).password).not.toBe(new URL(b.url).password);
  });

  describe('serves only clients that prove the password', () => {
    let embedded: EmbeddedPostgres;
    beforeAll(async () => {
      embedded = await startEmbeddedPostgres('memory', { authenticationTimeoutMs: 1_000 });
    });
    afterAll(() => embedded.stop());
    const withCredentials = (user: string, password: string) => {
      const url = new URL(embedded.url);
      url.username = user;
      url.password = password;
      return url.toString();
    };

    it('listens on loopback, and the URL the engine gets connects and queries', async () => {
      expect(new URL(embedded.url).hostname).toBe('127.0.0.1');
      expect(await selectOne(embedded.url)).toBe(1);
    });

    it('refuses a wrong password with 28P01', async () => {
      await expect(selectOne(withCredentials('postgres', 'guessed-password'))).rejects.toMatchObject({
        code: '28P01',
        severity: 'FATAL',
        message: 'password authentication failed for user "postgres"',
      });
    });

    it('refuses another user, even with the right password, the same way', async () => {
      const password = decodeURIComponent(new URL(embedded.url).password);
      await expect(selectOne(withCredentials('intruder', password))).rejects.toMatchObject({
        code: '28P01',
        message: 'password authentication failed for user "intruder"',
      });
    });

    it('asks for SCRAM-SHA-256, so a client without a password cannot even answer', async () => {
      await expect(selectOne(withCredentials('postgres', ''))).rejects.toThrow(/SASL: SCRAM-SERVER-FIRST-MESSAGE: client password/);
    });

    it('cuts off a client that skips the challenge and sends a query, before the database sees it', async () => {
      const answer = await rawExchange(embedded, [startupMessage('postgres'), typed('Q', cString('CREATE TABLE intruded (x int)'))]);
      expect(answer.messages.map((m) => m.type)).toEqual(['R', 'E']);
      expect(answer.messages[0].body.readInt32BE(0)).toBe(10); // AuthenticationSASL
      expect(answer.messages[1].fields).toMatchObject({ S: 'FATAL', C: '08P01' });
      expect(answer.closed).toBe(true);
      expect(await tableExists(embedded.url, 'intruded')).toBe(false);
    });

    it('cuts off a client that answers the challenge with a plain-text password', async () => {
      const password = decodeURIComponent(new URL(embedded.url).password);
      const answer = await rawExchange(embedded, [startupMessage('postgres'), typed('p', cString(password))]);
      expect(answer.messages.map((m) => m.type)).toEqual(['R', 'E']);
      expect(answer.messages[1].fields).toMatchObject({ S: 'FATAL', C: '08P01' });
      expect(answer.closed).toBe(true);
    });

    it('closes a connection that does not finish authenticating in time', async () => {
      const answer = await rawExchange(embedded, [startupMessage('postgres')]);
      expect(answer.messages.map((m) => m.type)).toEqual(['R']);
      expect(answer.closed).toBe(true);
    });
  });
});

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0].one;
  } finally {
    await client.end();
  }
}

async function tableExists(url: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name])).rows[0].t !== null;
  } finally {
    await client.end();
  }
}

// A hand-written client that speaks the wire protocol as an attacker would.
const cString = (text: string) => Buffer.from(`${text}\0`);

function typed(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function startupMessage(user: string): Buffer {
  const body = Buffer.concat([cString('user'), cString(user), cString('database'), cString('postgres'), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([head, body]);
}

interface ServerMessage {
  type: string;
  body: Buffer;
  /** An ErrorResponse's fields by their code (S severity, C SQLSTATE, M message). */
  fields: Record<string, string>;
}

/** Sends the bytes in one write and collects what the server answers until it closes (or 5 s pass). */
function rawExchange(embedded: EmbeddedPostgres, messages: Buffer[]): Promise<{ messages: ServerMessage[]; closed: boolean }> {
  const socket = connect(Number(new URL(embedded.url).port), '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (d) => received.push(d));
  socket.write(Buffer.concat(messages));
  return new Promise((resolve) => {
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ messages: parseServerMessages(Buffer.concat(received)), closed });
    };
    const timer = setTimeout(() => finish(false), 5_000);
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

function parseServerMessages(bytes: Buffer): ServerMessage[] {
  const messages: ServerMessage[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const type = String.fromCharCode(bytes[at]);
    const length = bytes.readInt32BE(at + 1);
    const body = bytes.subarray(at + 5, at + 1 + length);
    const fields: Record<string, string> = {};
    if (type === 'E') for (const field of body.toString().split('\0').filter(Boolean)) fields[field[0]] = field.slice(1);
    messages.push({ type, body, fields });
    at += 1 + length;
  }
  return messages;
}
