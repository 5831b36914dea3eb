/**
 * EventBridge PutEvents over JSON 1.1 (`X-Amz-Target: AWSEvents.PutEvents`), from the EventBridge
 * API Reference (PutEvents, PutEventsRequestEntry, PutEventsResultEntry): 1 to 10 entries; an
 * invalid entry fails alone, in its result entry, and counts in FailedEntryCount while the rest
 * are accepted; the response has one result per request entry, in order.
 */
import { randomUUID } from 'node:crypto';
import { type Authorizer, AwsError, type Clock, type SandboxRequest, type SandboxService } from '../contracts.js';
import { describeDenial } from '../iam.js';
import { answerJson, Constraints, type JsonObject, parseJsonObject, readTargetOperation } from '../json-rpc.js';
import { type EventCapture, eventBusArn } from './event-capture.js';

const TARGET_PREFIX = 'AWSEvents';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** 256 KB per PutEvents request ("Calculating PutEvents event entry size"). */
const MAX_REQUEST_BYTES = 256 * 1024;
const DEFAULT_BUS = 'default';

export interface EventBridgeDeps {
  readonly capture: EventCapture;
  readonly authorizer: Authorizer;
  readonly clock: Clock;
}

export function createEventBridgeService(deps: EventBridgeDeps): SandboxService {
  return {
    signingName: 'events',
    operation: (req) => readTargetOperation(req, TARGET_PREFIX),
    async handle(req, operation) {
      if (operation !== 'PutEvents') {
        throw new AwsError('UnknownOperationException', 400, `Operation ${operation} is not supported by the sandbox`);
      }
      return answerJson(req, 200, putEvents(deps, req, parseJsonObject(req)), CONTENT_TYPE);
    },
    renderError(error, req) {
      return answerJson(req, error.status, { __type: error.code, message: error.message }, CONTENT_TYPE);
    },
  };
}

interface ResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

function putEvents(deps: EventBridgeDeps, req: SandboxRequest, input: JsonObject): unknown {
  const c = new Constraints();
  if (c.required('entries', input.Entries)) c.count('entries', input.Entries, 1, 10);
  c.throwIfAny();
  const entries = (input.Entries as unknown[]).map((e) => (e ?? {}) as JsonObject);
  const size = entries.reduce((sum, e) => sum + entrySize(e), 0);
  if (size > MAX_REQUEST_BYTES) {
    throw new AwsError('ValidationException', 400, 'Total size of the entries in the request is over the limit.');
  }
  // A caller not allowed to put on a bus is refused for the whole request.
  for (const bus of new Set(entries.map((e) => resolveBus(req, e.EventBusName).arn))) {
    if (!deps.authorizer.isAllowed(req.caller, 'events:PutEvents', bus)) {
      throw new AwsError(
        'AccessDeniedException',
        400,
        `${describeDenial(req.caller, 'events:PutEvents', bus)} because no identity-based policy allows the events:PutEvents action`,
      );
    }
  }
  const now = deps.clock.now();
  const results = entries.map((entry) => putEntry(deps, req, entry, now));
  return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results };
}

/** UTF-8 bytes of Source, DetailType, Detail and Resources, plus 14 with a Time ("Calculating PutEvents event entry size"). */
function entrySize(entry: JsonObject): number {
  let size = entry.Time === undefined ? 0 : 14;
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] === 'string') size += Buffer.byteLength(entry[field] as string);
  }
  for (const resource of Array.isArray(entry.Resources) ? entry.Resources : []) {
    if (typeof resource === 'string') size += Buffer.byteLength(resource);
  }
  return size;
}

function invalidArgument(field: string): ResultEntry {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  };
}

/** The bus an entry names: a name or an ARN, defaulting to the account's default bus. */
function resolveBus(req: SandboxRequest, value: unknown): { name: string; arn: string } {
  const given = typeof value === 'string' && value !== '' ? value : DEFAULT_BUS;
  if (given.startsWith('arn:')) return { name: given.slice(given.lastIndexOf('/') + 1), arn: given };
  return { name: given, arn: eventBusArn(req.region, req.caller.accountId, given) };
}

function putEntry(deps: EventBridgeDeps, req: SandboxRequest, entry: JsonObject, now: number): ResultEntry {
  const bus = resolveBus(req, entry.EventBusName);
  if (bus.name !== DEFAULT_BUS) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: `Event bus ${bus.name} does not exist.` };
  }
  if (typeof entry.Source !== 'string' || entry.Source === '') return invalidArgument('Source');
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return invalidArgument('DetailType');
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return invalidArgument('Detail');
  if (entry.DetailType.length > 128) {
    return {
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is longer than 128 characters.',
    };
  }
  // The aws. prefix is reserved for events from AWS services.
  if (entry.Source.startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const eventId = randomUUID();
  const time =
    typeof entry.Time === 'number' ? entry.Time * 1000 : typeof entry.Time === 'string' ? Date.parse(entry.Time) : now;
  deps.capture.add({
    eventId,
    accountId: req.caller.accountId,
    region: req.region,
    eventBusName: bus.name,
    eventBusArn: bus.arn,
    source: entry.Source,
    detailType: entry.DetailType,
    detail: detail as Record<string, unknown>,
    resources: Array.isArray(entry.Resources) ? entry.Resources.filter((r): r is string => typeof r === 'string') : [],
    time: new Date(Number.isNaN(time) ? now : time).toISOString(),
    receivedAt: now,
  });
  return { EventId: eventId };
}
