import { Client, Connection } from '@temporalio/client';
import type { KeyRing } from '../crypto/keyRing';
import type { TemporalConnectionOptions } from './connectionOptions';
import { dataConverter } from './payloadCodec';

/** A client of the engine's namespace that seals and opens payloads with the engine's key ring. */
export async function connectTemporal(
  config: { TEMPORAL_NAMESPACE: string; keyRing: KeyRing },
  connectionOptions: TemporalConnectionOptions,
): Promise<Client> {
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(config) });
}
