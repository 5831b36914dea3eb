/**
 * What runs where: apps × stages, read live from every target account (the alias and the code of
 * the version it points at) and compared with the ledger's current state, flagging drift. Read
 * only; a target that cannot be read shows its error instead of failing the whole report.
 */
import pLimit from 'p-limit';
import { translateAwsError } from '../aws/sdk-errors.js';
import type { Target } from '../core/config.js';
import { assessTarget, type ShiftingTarget } from '../core/drift.js';
import { describeError, type ErrorKind, InputError, isFerryError } from '../core/errors.js';
import type { CurrentState } from '../core/ledger-model.js';
import { buildSessionName } from '../core/session-name.js';
import { didYouMean } from '../core/suggest.js';
import { type ShiftSummary, summarizeShift } from '../core/traffic-shift.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { parseVersionDescription } from './deploy-target.js';
import { readCurrent } from './ledger.js';
import { readShift } from './traffic-store.js';

export interface StatusRequest {
  readonly app?: string;
}

export interface TargetStatusRow {
  readonly targetId: string;
  readonly account: string;
  readonly region: string;
  readonly function: string;
  readonly alias: string;
  /** The version the alias points at now. */
  readonly version?: string;
  /** The version the ledger says it points at. */
  readonly expectedVersion?: string;
  /** The build named in the live version's description. */
  readonly liveBuild?: string;
  readonly codeSha256?: string;
  readonly checksumMatches?: boolean;
  readonly drift: readonly string[];
  /** Why the target could not be read (then nothing else about it is known). */
  readonly error?: string;
  /** The error's stable code (a FerryError code, or the AWS error name). */
  readonly errorCode?: string;
  /** The FerryError kind, when it is one: decides the CLI's exit code. */
  readonly errorKind?: ErrorKind;
}

export interface StageStatusRow {
  readonly app: string;
  readonly stage: string;
  /** The ledger's current build (undefined: nothing recorded). */
  readonly build?: string;
  readonly codeSha256?: string;
  readonly liveSince?: string;
  readonly ageSeconds?: number;
  /** Target id → live version. */
  readonly versions: Readonly<Record<string, string | undefined>>;
  /** True when every target serves the recorded code. */
  readonly checksumMatches: boolean;
  /** Every drift finding, prefixed with its target. */
  readonly drift: readonly string[];
  readonly lastFailureAt?: string;
  readonly rolledBackFrom?: string;
  /** A traffic shift in flight: the build being shifted in, the weights, the next step, the gates. */
  readonly shift?: ShiftSummary;
  readonly targets: readonly TargetStatusRow[];
}

export interface StatusReport {
  readonly generatedAt: string;
  readonly rows: readonly StageStatusRow[];
}

export async function readStatus(runtime: Runtime, req: StatusRequest): Promise<StatusReport> {
  const { config } = runtime;
  const apps = Object.values(config.apps).filter((a) => req.app === undefined || a.name === req.app);
  if (req.app !== undefined && apps.length === 0) {
    throw new InputError(
      'UNKNOWN_APP',
      `No app '${req.app}' is configured.${didYouMean(req.app, Object.keys(config.apps))} Known apps: ${Object.keys(config.apps).join(', ') || 'none'}.`,
    );
  }
  const limit = pLimit(config.concurrency);
  const now = runtime.now();
  const rows: Promise<StageStatusRow>[] = [];
  for (const app of apps) {
    for (const stage of config.stages) {
      const targets = app.targets[stage.name] ?? [];
      if (targets.length === 0) continue;
      rows.push(
        (async () => {
          const [current, shift] = await Promise.all([
            readCurrent(runtime, app.name, stage.name),
            readShift(runtime, app.name, stage.name),
          ]);
          const summary = shift ? summarizeShift(shift.value) : undefined;
          const shifting = (t: Target): ShiftingTarget | undefined => {
            const versions = summary ? shift?.value.targets[t.id] : undefined;
            return versions && summary && shift
              ? { ...versions, percent: summary.weights[t.id] ?? 0, codeSha256: shift.value.codeSha256 }
              : undefined;
          };
          const targetRows = await Promise.all(
            targets.map((t) => limit(() => readTarget(runtime, app.name, t, current, shifting(t)))),
          );
          return {
            ...toStageRow(app.name, stage.name, current, targetRows, now),
            ...(summary ? { shift: summary } : {}),
          };
        })(),
      );
    }
  }
  return { generatedAt: new Date(now).toISOString(), rows: await Promise.all(rows) };
}

async function readTarget(
  runtime: Runtime,
  app: string,
  target: Target,
  current: CurrentState | undefined,
  shifting: ShiftingTarget | undefined,
): Promise<TargetStatusRow> {
  const base = {
    targetId: target.id,
    account: target.accountId,
    region: target.region,
    function: target.functionName,
    alias: target.alias,
  };
  try {
    const lambda = await runtime.lambdaFor(target, buildSessionName(app, 'status'));
    const alias = await lambda.getAlias(target.functionName, target.alias);
    const version = alias
      ? await lambda.getFunctionConfiguration(target.functionName, alias.functionVersion)
      : undefined;
    const assessed = assessTarget(
      target.id,
      target.alias,
      { ...(alias ? { alias } : {}), ...(version ? { codeSha256: version.codeSha256 } : {}) },
      current,
      shifting,
    );
    const described = parseVersionDescription(version?.description);
    return {
      ...base,
      ...(alias ? { version: alias.functionVersion } : {}),
      ...(assessed.expectedVersion ? { expectedVersion: assessed.expectedVersion } : {}),
      ...(described?.app === app ? { liveBuild: described.build } : {}),
      ...(version ? { codeSha256: version.codeSha256 } : {}),
      ...(assessed.checksumMatches === undefined ? {} : { checksumMatches: assessed.checksumMatches }),
      drift: assessed.drift,
    };
  } catch (thrown) {
    // An SDK error becomes the ferry error that says what to do (and decides the exit code).
    const error = isFerryError(thrown) ? thrown : (translateAwsError(thrown) ?? thrown);
    return {
      ...base,
      drift: [],
      error: describeError(error),
      ...(isFerryError(error)
        ? { errorCode: error.code, errorKind: error.kind }
        : error instanceof Error
          ? { errorCode: error.name }
          : {}),
    };
  }
}

function toStageRow(
  app: string,
  stage: string,
  current: CurrentState | undefined,
  targets: readonly TargetStatusRow[],
  now: number,
): StageStatusRow {
  const liveMs = current ? Date.parse(current.liveSince) : Number.NaN;
  return {
    app,
    stage,
    ...(current
      ? {
          build: current.build,
          codeSha256: current.codeSha256,
          liveSince: current.liveSince,
          ...(Number.isNaN(liveMs) ? {} : { ageSeconds: Math.max(0, Math.round((now - liveMs) / 1000)) }),
          ...(current.lastFailureAt ? { lastFailureAt: current.lastFailureAt } : {}),
          ...(current.rolledBackFrom ? { rolledBackFrom: current.rolledBackFrom } : {}),
        }
      : {}),
    versions: Object.fromEntries(targets.map((t) => [t.targetId, t.version])),
    checksumMatches: current !== undefined && targets.every((t) => t.checksumMatches === true),
    drift: targets.flatMap((t) => [
      ...t.drift.map((d) => `${t.targetId}: ${d}`),
      ...(t.error ? [`${t.targetId}: unreadable: ${t.error}`] : []),
    ]),
    targets,
  };
}
