/**
 * Progressive delivery over HTTP: a ferry world on the sandbox's HTTP server, driven as AWS drives
 * ferry (S3 uploads reach the upload handler, EventBridge's one-minute rule runs the traffic-tick
 * handler) and observed as an operator would, through real SDK clients and the sandbox's admin
 * routes (its clock, alarm states, captured EventBridge events, request log, faults).
 *
 * Time: ferry reads the sandbox clock, and `advance(ms)` moves it through POST /_sandbox/clock/advance,
 * so a five-minute canary step is one call, not five minutes.
 */
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CapturedEvent, FaultRule, RequestLogEntry } from '@ferry/aws-sandbox';
import type { CurrentState, LedgerEntry } from '../../src/core/ledger-model.js';
import type { ShiftState } from '../../src/core/traffic-shift.js';
import { createTrafficTickHandler } from '../../src/handlers/traffic-tick.js';
import type { Runtime } from '../../src/runtime/create-runtime.js';
import { recordLog } from './record-log.js';
import { type FerryWorld, makeFunctionZip, startFerryWorld } from './sandbox-harness.js';

export const REGION = 'eu-west-1';
export const BUCKET = 'ferry-artifacts-111111111111';
export const MINUTE = 60_000;
export const PROD_ACCOUNTS = ['444444444444', '555555555555', '666666666666'] as const;

/** orders in staging (one account) and prod (three accounts), uploads deploy to `uploadsTo`. */
export function trafficConfig(input: {
  prod?: Record<string, unknown>;
  staging?: Record<string, unknown>;
  promotion?: Record<string, unknown>;
  uploadsTo?: 'staging' | 'prod';
}) {
  const uploadsTo = input.uploadsTo ?? 'prod';
  return {
    artifactBucket: BUCKET,
    region: REGION,
    externalId: 'ferry-sandbox-external-id',
    // Shifts run for sandbox minutes: role sessions must outlive them.
    sessionDurationSeconds: 3600,
    stages: [
      { name: 'staging', acceptsUploads: uploadsTo === 'staging' },
      { name: 'prod', acceptsUploads: uploadsTo === 'prod' },
    ],
    apps: {
      orders: {
        targets: {
          staging: [{ account: '222222222222', function: 'orders' }],
          prod: PROD_ACCOUNTS.map((account) => ({ account, function: 'orders' })),
        },
        traffic: {
          ...(input.prod ? { prod: input.prod } : {}),
          ...(input.staging ? { staging: input.staging } : {}),
        },
        promotions: input.promotion ? [{ from: 'staging', to: 'prod', ...input.promotion }] : [],
      },
    },
  };
}

export interface TrafficWorld {
  readonly world: FerryWorld;
  readonly runtime: Runtime;
  readonly log: ReturnType<typeof recordLog>;
  /** Deploys build 1 to every target all at once (no stable version to shift from): the stable build. */
  deployStable(): Promise<void>;
  /** Uploads a build as CI does and waits until the upload handler ran. */
  upload(build: string, zip: Buffer): Promise<void>;
  /** Moves the sandbox clock (ferry's clock) forward, through the admin route. */
  advance(ms: number): Promise<void>;
  /** EventBridge's one-minute rule: the clock moves `minutes`, then the traffic-tick handler runs once. */
  tick(minutes?: number): Promise<unknown>;
  /** What each alias of a stage serves, read with GetAlias: `1`, or `1 {"2":0.1}` while routing. */
  served(stage?: string): Promise<string[]>;
  /** Invokes the alias of a target `times` times; answers how many calls each version served. */
  invoke(accountId: string, times: number): Promise<Record<string, { calls: number; errors: number }>>;
  /** Creates the alarm in every prod account (admin route), in the given state. */
  alarmEverywhere(name: string, state: 'OK' | 'ALARM'): Promise<void>;
  setAlarm(accountId: string, name: string, state: 'OK' | 'ALARM'): Promise<void>;
  /** ferry's notifications as the sandbox's EventBridge captured them (admin route), of one build if given. */
  events(build?: string): Promise<CapturedEvent[]>;
  requests(filter: Record<string, string>): Promise<RequestLogEntry[]>;
  addFault(rule: FaultRule): Promise<void>;
  shift(stage?: string): Promise<ShiftState | undefined>;
  current(stage?: string): Promise<CurrentState | undefined>;
  entries(stage?: string): Promise<LedgerEntry[]>;
  stop(): Promise<void>;
}

export async function startTrafficWorld(
  config: unknown,
  options: { routing?: 'even' | 'random' } = {},
): Promise<TrafficWorld> {
  // No alias yet: ferry's first deploy (build 1, all at once) creates it and records the stage's stable build.
  const world = await startFerryWorld({
    config,
    seedAliases: false,
    lambda: { updateDelayMs: 20, weightedRouting: options.routing ?? 'even' },
  });
  const { sandbox } = world;
  const runtime = world.createRuntime({ now: () => sandbox.clock.now() });
  const log = recordLog();
  world.connectUploadHandler(runtime, log);
  const tickHandler = createTrafficTickHandler(() => runtime, log);
  const clients = new Map<string, LambdaClient>();
  const lambdaOf = (accountId: string) => {
    let client = clients.get(accountId);
    if (!client) {
      client = new LambdaClient(sandbox.clientConfig(world.rootCredentials(accountId), REGION));
      clients.set(accountId, client);
    }
    return client;
  };
  const s3 = world.s3Client();
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.endpoint}/_sandbox/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!response.ok) throw new Error(`admin ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : ((await response.json()) as unknown);
  };
  const readJson = async <T>(key: string): Promise<T | undefined> => {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return JSON.parse((await out.Body?.transformToString()) ?? 'null') as T;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  };
  const targetsOf = (stage: string) => world.targets.filter((t) => t.stage === stage);
  const advance = async (ms: number) => {
    await admin('POST', 'clock/advance', { ms });
  };
  const setAlarm = async (accountId: string, name: string, state: 'OK' | 'ALARM') => {
    await admin('POST', 'cloudwatch/alarm-state', {
      accountId,
      alarmName: name,
      stateValue: state,
      stateReason: `set by the test: ${state}`,
    });
  };
  return {
    world,
    runtime,
    log,
    async upload(build, zip) {
      await world.upload('orders', build, zip);
      await sandbox.drainEvents();
    },
    async deployStable() {
      await world.upload('orders', '1', await makeFunctionZip('1'));
      await sandbox.drainEvents();
    },
    advance,
    async tick(minutes = 1) {
      await advance(minutes * MINUTE);
      return tickHandler({});
    },
    async served(stage = 'prod') {
      return Promise.all(
        targetsOf(stage).map(async (t) => {
          const alias = await lambdaOf(t.accountId).send(
            new GetAliasCommand({ FunctionName: t.functionName, Name: t.alias }),
          );
          const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
          return `${alias.FunctionVersion}${Object.keys(weights).length > 0 ? ` ${JSON.stringify(weights)}` : ''}`;
        }),
      );
    },
    async invoke(accountId, times) {
      const served: Record<string, { calls: number; errors: number }> = {};
      for (let i = 0; i < times; i++) {
        const out = await lambdaOf(accountId).send(new InvokeCommand({ FunctionName: 'orders', Qualifier: 'live' }));
        const version = out.ExecutedVersion ?? '?';
        const row = served[version] ?? { calls: 0, errors: 0 };
        row.calls += 1;
        if (out.FunctionError) row.errors += 1;
        served[version] = row;
      }
      return served;
    },
    async alarmEverywhere(name, state) {
      for (const accountId of PROD_ACCOUNTS) {
        await admin('POST', 'cloudwatch/alarms', {
          accountId,
          alarmName: name,
          dimensions: { FunctionName: 'orders' },
        });
        await setAlarm(accountId, name, state);
      }
    },
    setAlarm,
    async events(build) {
      const out = (await admin('GET', 'eventbridge/events?source=ferry')) as { events: CapturedEvent[] };
      return out.events.filter((e) => build === undefined || e.detail.build === build);
    },
    async requests(filter) {
      const out = (await admin('GET', `requests?${new URLSearchParams(filter)}`)) as { requests: RequestLogEntry[] };
      return out.requests;
    },
    async addFault(rule) {
      await admin('POST', 'faults', rule);
    },
    shift: (stage = 'prod') => readJson<ShiftState>(`ledger/orders/${stage}/traffic.json`),
    current: (stage = 'prod') => readJson<CurrentState>(`ledger/orders/${stage}/current.json`),
    async entries(stage = 'prod') {
      const prefix = `ledger/orders/${stage}/entries/`;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
      const docs = await Promise.all(keys.map((key) => readJson<LedgerEntry>(key)));
      // In the order they were decided: a shift's start entry before its end entry.
      return docs
        .filter((d): d is LedgerEntry => d !== undefined)
        .sort((a, b) => a.endedAt.localeCompare(b.endedAt) || a.startedAt.localeCompare(b.startedAt));
    },
    async stop() {
      for (const client of clients.values()) client.destroy();
      s3.destroy();
      await world.stop();
    },
  };
}

/** The `state` of each ferry notification, in the order EventBridge accepted them. */
export const statesOf = (events: readonly CapturedEvent[]) => events.map((e) => String(e.detail.state));
