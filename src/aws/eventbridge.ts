/**
 * The EventBridge adapter: ferry's deployment notifications on the tooling account's default bus
 * (source `ferry`). PutEvents answers 200 even when entries failed, so FailedEntryCount is checked
 * and the entries EventBridge refused are returned with their error code and whether a retry may
 * succeed (engine/notify.ts retries those). A failed call throws (throttling as ThrottledError).
 * The only place that sends EventBridge commands.
 */
import { type EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AccessError, isThrottlingAwsError, ThrottledError } from '../core/errors.js';

export const FERRY_EVENT_SOURCE = 'ferry';

export interface FerryEvent {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
}

export interface RefusedEvent {
  readonly event: FerryEvent;
  readonly code: string;
  readonly message: string;
  /** InternalFailure and ThrottlingException: the same entry may be accepted later. */
  readonly retryable: boolean;
}

export interface EventsPort {
  /** Sends the events; answers those EventBridge refused (empty when every entry was accepted). */
  publish(events: readonly FerryEvent[]): Promise<readonly RefusedEvent[]>;
}

/** PutEvents takes 1–10 entries per call. */
const ENTRIES_PER_CALL = 10;
const RETRYABLE = new Set(['InternalFailure', 'ThrottlingException']);

export function createEventsPort(client: EventBridgeClient, eventBusName = 'default'): EventsPort {
  const send = async (events: readonly FerryEvent[]): Promise<RefusedEvent[]> => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: events.map((e) => ({
          Source: FERRY_EVENT_SOURCE,
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
          EventBusName: eventBusName,
          ...(e.resources && e.resources.length > 0 ? { Resources: [...e.resources] } : {}),
        })),
      }),
    );
    // Entries answer in request order: a failed entry carries an ErrorCode.
    return (out.Entries ?? []).flatMap((entry, i) => {
      const event = events[i];
      return entry.ErrorCode && event
        ? [
            {
              event,
              code: entry.ErrorCode,
              message: entry.ErrorMessage ?? '',
              retryable: RETRYABLE.has(entry.ErrorCode),
            },
          ]
        : [];
    });
  };
  return {
    async publish(events) {
      const refused: RefusedEvent[] = [];
      try {
        for (let i = 0; i < events.length; i += ENTRIES_PER_CALL) {
          refused.push(...(await send(events.slice(i, i + ENTRIES_PER_CALL))));
        }
        return refused;
      } catch (error) {
        if (
          error instanceof EventBridgeServiceException &&
          (error.name === 'AccessDeniedException' || error.$metadata.httpStatusCode === 403)
        ) {
          throw new AccessError(
            'EVENTS_ACCESS_DENIED',
            `ferry's role may not call events:PutEvents on bus ${eventBusName}: ${error.message}. serverless.yml grants it on the default bus.`,
            { cause: error, context: { eventBusName } },
          );
        }
        if (isThrottlingAwsError(error)) {
          throw new ThrottledError(
            'EVENTS_THROTTLED',
            `EventBridge throttled PutEvents on bus ${eventBusName}; ferry retries.`,
            {
              cause: error,
              context: { eventBusName },
            },
          );
        }
        throw error;
      }
    },
  };
}
