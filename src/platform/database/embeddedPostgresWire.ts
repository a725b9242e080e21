// The embedded database's front door: a PostgreSQL wire-protocol listener on loopback that
// answers a client's startup with a SCRAM-SHA-256 challenge (as a real server configured with
// `scram-sha-256` in pg_hba.conf does) and hands PGlite nothing of that client's until it has
// proven the password. PGlite itself answers AuthenticationOk to anyone, so it must never see
// an unauthenticated startup message.
import { createServer, type Socket } from 'node:net';
import { log } from '../log';
import { SCRAM_MECHANISM, ScramExchange, scramVerifier, type ScramVerifier } from './scram';

/** Where an authenticated connection's messages go (embeddedPostgres.ts's ProtocolBatchQueue). */
export interface ProtocolQueue {
  enqueue(connectionId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  clearQueueForHandler(connectionId: number): void;
  clearTransactionIfNeeded(connectionId: number): Promise<void>;
}

export interface WireListenerOptions {
  queue: ProtocolQueue;
  user: string;
  password: string;
  port?: number;
  maxConnections?: number;
  /** A connection that has not authenticated by then is closed (PostgreSQL's authentication_timeout). */
  authenticationTimeoutMs?: number;
}

export interface WireListener {
  port: number;
  close(): Promise<void>;
}

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH; authentication messages are far smaller still. */
const MAX_STARTUP_LENGTH = 10_000;
const MAX_AUTHENTICATION_MESSAGE_LENGTH = 2_000;
const AUTHENTICATION_SASL = 10;
const AUTHENTICATION_SASL_CONTINUE = 11;
const AUTHENTICATION_SASL_FINAL = 12;

export async function listenOnLoopback(options: WireListenerOptions): Promise<WireListener> {
  const verifier = scramVerifier(options.password);
  const maxConnections = options.maxConnections ?? 100;
  const connections = new Set<ClientConnection>();
  let nextId = 1;
  const server = createServer((socket) => {
    if (connections.size >= maxConnections) {
      socket.on('error', () => undefined);
      socket.end(errorResponse('53300', 'sorry, too many clients already'));
      return;
    }
    const connection = new ClientConnection(nextId++, socket, verifier, options);
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  });
  // Loopback only: the password keeps out the host's other users, the address the network.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.destroy();
      await Promise.all([...connections].map((c) => c.closed));
      await stopped;
    },
  };
}

type Phase = 'startup' | 'sasl-initial' | 'sasl-final' | 'session' | 'closed';

class ClientConnection {
  readonly closed: Promise<void>;
  private phase: Phase = 'startup';
  private readonly input = new ByteQueue();
  private user = '';
  private negotiatedEncryption = false;
  private startupPacket: Buffer | null = null;
  private exchange: ScramExchange | null = null;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly id: number,
    private readonly socket: Socket,
    private readonly verifier: ScramVerifier,
    private readonly options: WireListenerOptions,
  ) {
    socket.setNoDelay(true);
    this.deadline = setTimeout(() => socket.destroy(), options.authenticationTimeoutMs ?? 10_000).unref();
    socket.on('data', (data) => {
      if (this.phase === 'closed') return;
      this.input.push(data);
      this.read();
    });
    socket.on('error', () => undefined); // a client going away; 'close' follows
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        clearTimeout(this.deadline);
        const wasInSession = this.phase === 'session';
        this.phase = 'closed';
        if (!wasInSession) return resolve();
        options.queue.clearQueueForHandler(id);
        options.queue
          .clearTransactionIfNeeded(id)
          .catch(() => undefined)
          .finally(resolve);
      }),
    );
  }

  destroy() {
    this.socket.destroy();
  }

  private read() {
    while (this.phase !== 'closed') {
      if (this.phase === 'startup') {
        if (!this.readStartup()) return;
        continue;
      }
      const header = this.input.peek(5);
      if (!header) return;
      const length = header.readInt32BE(1);
      if (length < 4 || (this.phase !== 'session' && length > MAX_AUTHENTICATION_MESSAGE_LENGTH))
        return this.refuse('08P01', 'invalid message length');
      if (this.input.length < 1 + length) return;
      const message = this.input.take(1 + length);
      if (this.phase === 'session') this.forward(message);
      else this.authenticate(message);
    }
  }

  /** The untyped packets a connection opens with; false when more bytes are needed. */
  private readStartup(): boolean {
    const head = this.input.peek(8);
    if (!head) return false;
    const length = head.readInt32BE(0);
    const code = head.readInt32BE(4);
    if (length < 8 || length > MAX_STARTUP_LENGTH) {
      this.refuse('08P01', 'invalid length of startup packet');
      return false;
    }
    if (this.input.length < length) return false;
    const packet = this.input.take(length);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      if (this.negotiatedEncryption) {
        this.refuse('08P01', 'encryption was already negotiated');
        return false;
      }
      this.negotiatedEncryption = true;
      this.socket.write('N'); // no TLS on loopback: the client goes on in the clear
      return true;
    }
    if (code === CANCEL_REQUEST) {
      this.socket.destroy(); // PGlite has no backend to cancel
      return false;
    }
    if (code !== PROTOCOL_3_0) {
      this.refuse('0A000', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0`);
      return false;
    }
    const user = startupParameters(packet)?.get('user');
    if (user === undefined) {
      this.refuse('28000', 'no PostgreSQL user name specified in startup packet');
      return false;
    }
    this.user = user;
    this.startupPacket = packet;
    // An unknown user gets the same challenge and fails only at the end, as in PostgreSQL.
    this.exchange = new ScramExchange(this.verifier, user !== this.options.user);
    this.socket.write(authentication(AUTHENTICATION_SASL, Buffer.from(`${SCRAM_MECHANISM}\0\0`)));
    this.phase = 'sasl-initial';
    return true;
  }

  private authenticate(message: Buffer) {
    if (message[0] !== 0x70 /* 'p' */)
      return this.refuse('08P01', `expected SASL response, got message type ${String.fromCharCode(message[0])}`);
    const body = message.subarray(5);
    try {
      if (this.phase === 'sasl-initial') {
        const end = body.indexOf(0);
        if (end === -1 || body.subarray(0, end).toString() !== SCRAM_MECHANISM)
          return this.refuse('08P01', 'client selected an invalid SASL authentication mechanism');
        if (body.length < end + 5) return this.refuse('08P01', 'malformed SCRAM message');
        const clientFirst = body.subarray(end + 5, end + 5 + Math.max(0, body.readInt32BE(end + 1))).toString();
        const serverFirst = this.exchange!.serverFirst(clientFirst);
        this.socket.write(authentication(AUTHENTICATION_SASL_CONTINUE, Buffer.from(serverFirst)));
        this.phase = 'sasl-final';
        return;
      }
      const serverFinal = this.exchange!.serverFinal(body.toString());
      if (serverFinal === null) {
        log.warn('refused a connection to the embedded database: password authentication failed', { user: this.user });
        return this.refuse('28P01', `password authentication failed for user "${this.user}"`);
      }
      this.socket.write(authentication(AUTHENTICATION_SASL_FINAL, Buffer.from(serverFinal)));
    } catch {
      return this.refuse('08P01', 'malformed SCRAM message');
    }
    clearTimeout(this.deadline);
    this.phase = 'session';
    // Now PGlite meets the client: its answer to the startup packet (AuthenticationOk, the
    // parameters, ReadyForQuery) is what the client expects after the SASL exchange.
    this.forward(this.startupPacket!);
    this.startupPacket = null;
  }

  private forward(message: Buffer) {
    if (message[0] === 0x58 /* 'X' Terminate */) return void this.socket.end();
    this.options.queue
      .enqueue(this.id, message, (data) => {
        if (this.socket.writable) this.socket.write(data);
      })
      .catch(() => this.socket.destroy());
  }

  private refuse(sqlState: string, text: string) {
    this.phase = 'closed';
    this.socket.end(errorResponse(sqlState, text));
  }
}

function startupParameters(packet: Buffer): Map<string, string> | null {
  const parameters = new Map<string, string>();
  let at = 8;
  while (at < packet.length && packet[at] !== 0) {
    const keyEnd = packet.indexOf(0, at);
    const valueEnd = keyEnd === -1 ? -1 : packet.indexOf(0, keyEnd + 1);
    if (valueEnd === -1) return null;
    parameters.set(packet.subarray(at, keyEnd).toString(), packet.subarray(keyEnd + 1, valueEnd).toString());
    at = valueEnd + 1;
  }
  return at === packet.length - 1 ? parameters : null;
}

function typedMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function authentication(code: number, payload = Buffer.alloc(0)): Buffer {
  const codeBytes = Buffer.alloc(4);
  codeBytes.writeInt32BE(code);
  return typedMessage('R', Buffer.concat([codeBytes, payload]));
}

function errorResponse(sqlState: string, text: string): Buffer {
  const field = (code: string, value: string) => Buffer.from(`${code}${value}\0`);
  return typedMessage(
    'E',
    Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', sqlState), field('M', text), Buffer.from([0])]),
  );
}

/** Bytes received and not yet read; joins chunks only when a message spans them. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer) {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first n bytes, or null while fewer have arrived. */
  peek(n: number): Buffer | null {
    if (this.length < n) return null;
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  /** The first n bytes as a buffer of their own (PGlite may hold on to a message). */
  take(n: number): Buffer {
    this.peek(n);
    const head = this.chunks[0];
    const taken = Buffer.from(head.subarray(0, n));
    if (head.length === n) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.length -= n;
    return taken;
  }
}
