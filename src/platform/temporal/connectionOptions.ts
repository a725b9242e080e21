// How the engine reaches a Temporal cluster it did not start: plain gRPC on a private network,
// TLS (a private CA, TEMPORAL_TLS_CA), mutual TLS (a client certificate, TEMPORAL_TLS_CERT and
// TEMPORAL_TLS_KEY) or a Temporal Cloud API key (TEMPORAL_API_KEY, which implies TLS). The
// same options serve the client (Connection) and the worker (NativeConnection).
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';

export interface TemporalTlsSettings {
  TEMPORAL_ADDRESS?: string;
  TEMPORAL_TLS?: boolean;
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
  TEMPORAL_API_KEY?: string;
}

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/**
 * Connection options for TEMPORAL_ADDRESS under these settings (loadConfig has refused
 * contradictions: a certificate without its key, TEMPORAL_TLS=false with TLS files).
 * The dev server `npm start` runs on loopback is plain gRPC and needs none of this.
 */
export function temporalConnectionOptions(s: TemporalTlsSettings): TemporalConnectionOptions {
  const address = s.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set');
  const wantsTls = s.TEMPORAL_TLS ?? Boolean(s.TEMPORAL_TLS_CA || s.TEMPORAL_TLS_CERT || s.TEMPORAL_TLS_SERVER_NAME || s.TEMPORAL_API_KEY);
  if (!wantsTls) return { address };
  const tls: TLSConfig = {};
  if (s.TEMPORAL_TLS_CA) tls.serverRootCACertificate = readPem(s.TEMPORAL_TLS_CA, 'TEMPORAL_TLS_CA');
  if (s.TEMPORAL_TLS_CERT && s.TEMPORAL_TLS_KEY)
    tls.clientCertPair = { crt: readPem(s.TEMPORAL_TLS_CERT, 'TEMPORAL_TLS_CERT'), key: readPem(s.TEMPORAL_TLS_KEY, 'TEMPORAL_TLS_KEY') };
  if (s.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = s.TEMPORAL_TLS_SERVER_NAME;
  return { address, tls, ...(s.TEMPORAL_API_KEY ? { apiKey: s.TEMPORAL_API_KEY } : {}) };
}
