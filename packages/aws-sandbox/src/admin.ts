/**
 * Loopback-only admin routes under /_sandbox/, for clients in other processes (benchmarks, the
 * CLI's users): read the request log, add and clear faults, mint role credentials (the seeding
 * path, since AssumeRole refuses root keys), ask a standalone sandbox to stop. Not part of any AWS API.
 */
import type { SandboxCredentials } from './accounts.js';
import type { CloudWatchSandbox, SeedAlarmStateInput, SeedMetricAlarmInput } from './cloudwatch/cloudwatch-sandbox.js';
import type { CapturedEvent, CapturedEventFilter } from './eventbridge/event-capture.js';
import type { FaultRegistry, FaultRule } from './faults.js';
import type { RequestFilter, RequestLog } from './request-log.js';
import type { IssueRoleCredentialsInput } from './sts/role-session.js';

export const ADMIN_PREFIX = '/_sandbox/';

export interface AdminDeps {
  readonly log: RequestLog;
  readonly faults: FaultRegistry;
  readonly issueRoleCredentials: (input: IssueRoleCredentialsInput) => SandboxCredentials;
  readonly cloudwatch: CloudWatchSandbox;
  readonly eventbridge: { captured(filter?: CapturedEventFilter): CapturedEvent[] };
  /** Removes and returns the queued `Event` invocations (lambda settings asyncInvocations `queue`). */
  readonly takeAsyncInvocations: () => unknown[];
  /** Moves the sandbox clock forward and returns the new time (epoch ms). */
  readonly advanceClock: (ms: number) => number;
  /** Asks the process that owns the sandbox to stop it (the CLI's `--stop`); absent in process. */
  readonly requestShutdown?: () => void;
}

export interface AdminAnswer {
  status: number;
  body: unknown;
}

export function handleAdminRequest(deps: AdminDeps, method: string, url: URL, body: Buffer): AdminAnswer {
  const route = `${method} ${url.pathname.slice(ADMIN_PREFIX.length - 1)}`;
  switch (route) {
    case 'GET /health':
      return { status: 200, body: { ok: true } };
    case 'GET /requests': {
      const filter = readFilter(url.searchParams);
      return { status: 200, body: { count: deps.log.count(filter), requests: deps.log.list(filter) } };
    }
    case 'DELETE /requests':
      deps.log.clear();
      return { status: 204, body: undefined };
    case 'GET /faults':
      return { status: 200, body: { faults: deps.faults.list() } };
    case 'POST /faults':
      return addFault(deps, body);
    case 'DELETE /faults':
      deps.faults.clear();
      return { status: 204, body: undefined };
    case 'POST /role-credentials':
      return issueRoleCredentials(deps, body);
    case 'GET /eventbridge/events':
      return { status: 200, body: { events: deps.eventbridge.captured(readEventFilter(url.searchParams)) } };
    case 'POST /lambda/async-invocations/take':
      return { status: 200, body: { invocations: deps.takeAsyncInvocations() } };
    case 'POST /cloudwatch/alarms':
      return withJson(body, (input) => ({
        status: 201,
        body: deps.cloudwatch.putMetricAlarm(input as unknown as SeedMetricAlarmInput),
      }));
    case 'POST /cloudwatch/alarm-state':
      return withJson(body, (input) => {
        deps.cloudwatch.setAlarmState(input as unknown as SeedAlarmStateInput);
        return { status: 204, body: undefined };
      });
    case 'POST /clock/advance':
      return withJson(body, (input) => {
        const ms = Number(input.ms);
        if (!Number.isFinite(ms) || ms < 0) return { status: 400, body: { message: 'advance needs {"ms": n ≥ 0}' } };
        return { status: 200, body: { now: deps.advanceClock(ms) } };
      });
    case 'POST /shutdown':
      if (!deps.requestShutdown)
        return { status: 405, body: { message: 'this sandbox runs in a process that stops it' } };
      // After the answer is written: the stop closes the server.
      setImmediate(deps.requestShutdown);
      return { status: 202, body: { stopping: true } };
    default:
      return { status: 404, body: { message: `no admin route ${route}` } };
  }
}

function readFilter(params: URLSearchParams): RequestFilter {
  const filter: RequestFilter = {};
  for (const name of ['service', 'operation', 'accountId', 'callerArn', 'errorCode'] as const) {
    const value = params.get(name);
    if (value !== null) filter[name] = value;
  }
  const status = params.get('status');
  if (status !== null) filter.status = Number(status);
  return filter;
}

function readEventFilter(params: URLSearchParams): CapturedEventFilter {
  const filter: CapturedEventFilter = {};
  for (const name of ['accountId', 'source', 'detailType', 'eventBusName'] as const) {
    const value = params.get(name);
    if (value !== null) filter[name] = value;
  }
  return filter;
}

/** Parses a JSON object body and runs `answer`; a bad body or a refused seed is a 400 naming why. */
function withJson(body: Buffer, answer: (input: Record<string, unknown>) => AdminAnswer): AdminAnswer {
  try {
    const input: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      return { status: 400, body: { message: 'the body must be a JSON object' } };
    }
    return answer(input as Record<string, unknown>);
  } catch (error) {
    return { status: 400, body: { message: error instanceof Error ? error.message : String(error) } };
  }
}

function addFault(deps: AdminDeps, body: Buffer): AdminAnswer {
  try {
    const rule = JSON.parse(body.toString('utf8')) as FaultRule;
    if (typeof rule.service !== 'string' || typeof rule.operation !== 'string') {
      return { status: 400, body: { message: 'a fault needs service and operation' } };
    }
    deps.faults.add(rule);
    return { status: 201, body: { faults: deps.faults.list() } };
  } catch (error) {
    return { status: 400, body: { message: error instanceof Error ? error.message : String(error) } };
  }
}

/** `{ roleArn, sessionName, durationSeconds? }` → `{ accessKeyId, secretAccessKey, sessionToken, expiration }`. */
function issueRoleCredentials(deps: AdminDeps, body: Buffer): AdminAnswer {
  try {
    const input = JSON.parse(body.toString('utf8')) as IssueRoleCredentialsInput;
    if (typeof input.roleArn !== 'string' || typeof input.sessionName !== 'string') {
      return { status: 400, body: { message: 'role credentials need roleArn and sessionName' } };
    }
    const credentials = deps.issueRoleCredentials({
      roleArn: input.roleArn,
      sessionName: input.sessionName,
      ...(input.durationSeconds !== undefined ? { durationSeconds: Number(input.durationSeconds) } : {}),
    });
    return { status: 200, body: { ...credentials, expiration: credentials.expiration?.toISOString() } };
  } catch (error) {
    return { status: 400, body: { message: error instanceof Error ? error.message : String(error) } };
  }
}
