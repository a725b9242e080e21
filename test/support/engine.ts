// A running engine for one test file: its own task queue and worker, the real API on a
// loopback port, and a fresh org with an API token. Clients talk to it over HTTP.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Unit } from '@unit-finance/unit-node-sdk';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { createApp } from '../../src/engine/httpApi';
import { boundClientTime } from '../../src/platform/http/jsonApi';
import { createKey, createOrgWithKey } from '../../src/orgs/repository';
import { loadConfig, type Config } from '../../src/platform/config';
import { connectDatabase } from '../../src/platform/database/connection';
import { installTemporalRuntime } from '../../src/platform/temporal/runtime';
import { dataConverter } from '../../src/platform/temporal/payloadCodec';
import { createWorker, type EngineWorker } from '../../src/engine/worker';
import { temporalTestServerPath } from '../../src/platform/temporal/devServer';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../src/platform/temporal/searchAttributes';

installTemporalRuntime();

export interface TestEngine {
  baseUrl: string;
  token: string;
  orgId: string;
  unit: Unit;
  db: ReturnType<typeof connectDatabase>;
  temporal: Client;
  config: Config;
  /** The org's reviewer: a key with the review scope only (the org's first key has applications and admin). */
  reviewer: { keyId: string; token: string };
  /** Another org on the same engine (tenant isolation). */
  newOrg(): Promise<{ orgId: string; token: string; unit: Unit }>;
  /** Calls the API with this org's token; returns status and parsed body. */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestEngineOptions {
  env?: Record<string, string>;
  workerOptions?: Partial<WorkerOptions>;
  /** Run on Temporal's time-skipping test server (timers fire as soon as nothing else is pending). */
  timeSkipping?: boolean;
}

export async function startTestEngine(
  optsOrEnv: TestEngineOptions | Record<string, string> = {},
  legacyWorkerOptions: Partial<WorkerOptions> = {},
): Promise<TestEngine & { testEnv?: TestWorkflowEnvironment }> {
  const isOptions = ['env', 'workerOptions', 'timeSkipping'].some((k) => k in optsOrEnv);
  const opts: TestEngineOptions = isOptions
    ? (optsOrEnv as TestEngineOptions)
    : { env: optsOrEnv as Record<string, string>, workerOptions: legacyWorkerOptions };
  const { env = {}, workerOptions = {} } = opts;
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    DATA_ENCRYPTION_KEYS: inject('dataEncryptionKeys'),
    IDENTITY_INDEX_KEY: inject('identityIndexKey'),
    ...env,
  });
  const db = connectDatabase(config.DATABASE_URL!, 4);
  let testEnv: TestWorkflowEnvironment | undefined;
  let connection: Connection;
  let temporal: Client;
  let nativeConnection: NativeConnection;
  if (opts.timeSkipping) {
    testEnv = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
      client: { dataConverter: dataConverter(config) },
    });
    connection = testEnv.connection as unknown as Connection;
    temporal = testEnv.client as unknown as Client;
    nativeConnection = testEnv.nativeConnection;
    // The test server knows no custom search attributes until they are registered.
    const { temporal: proto } = await import('@temporalio/proto');
    await testEnv.connection.operatorService
      .addSearchAttributes({
        namespace: testEnv.namespace ?? 'default',
        searchAttributes: Object.fromEntries(
          SEARCH_ATTRIBUTES.map((k) => [k.name, proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      })
      .catch((err: Error) => {
        throw new Error(`could not register search attributes on the test server: ${err.message}`);
      });
  } else {
    connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS! });
    temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(config) });
    nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
  }

  // The engine's workers: its task queue and the verification task queue.
  let worker: EngineWorker | null = null;
  let running: Promise<void> | null = null;
  const startWorker = async () => {
    worker = await createWorker({
      connection: nativeConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      db,
      config,
      workflowBundlePath: inject('workflowBundlePath'),
      options: workerOptions,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (!worker) return;
    worker.shutdown();
    await running;
    worker = null;
  };
  await startWorker();

  const server = boundClientTime(createApp({ db, temporal, config }).listen(0, '127.0.0.1'));
  await new Promise((r) => server.once('listening', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const first = await createOrgWithKey(db, `test org ${randomUUID()}`);
  const { orgId } = first.org;
  const { token } = first.key;
  const reviewerKey = await createKey(db, orgId, { name: 'ops reviewer', scopes: ['review'] });

  const api: TestEngine['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && !(body instanceof FormData) && typeof body !== 'string'
          ? { 'content-type': 'application/vnd.api+json' }
          : {}),
        ...headers,
      },
      body:
        body === undefined
          ? undefined
          : body instanceof FormData || typeof body === 'string' || Buffer.isBuffer(body)
            ? (body as BodyInit)
            : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  return {
    baseUrl,
    token,
    orgId,
    db,
    temporal,
    config,
    api,
    startWorker,
    stopWorker,
    testEnv,
    unit: new Unit(token, baseUrl),
    reviewer: { keyId: reviewerKey.keyId, token: reviewerKey.token },
    async newOrg() {
      const o = await createOrgWithKey(db, `other org ${randomUUID()}`);
      return { orgId: o.org.orgId, token: o.key.token, unit: new Unit(o.key.token, baseUrl) };
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
      await stopWorker();
      if (testEnv) {
        await testEnv.teardown();
      } else {
        await nativeConnection.close();
        await connection.close();
      }
      await db.destroy();
    },
  };
}
