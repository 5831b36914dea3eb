/**
 * The EventBridge adapter: ferry's deployment notifications on the tooling account's default bus
 * (source `ferry`). PutEvents answers 200 even when entries failed, so FailedEntryCount is checked
 * and the failed entries retried once when the failure is transient. The only place that sends
 * EventBridge commands.
 */
import { type EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AccessError, InternalError } from '../core/errors.js';

export const FERRY_EVENT_SOURCE = 'ferry';

export interface FerryEvent {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
}

export interface EventsPort {
  publish(events: readonly FerryEvent[]): Promise<void>;
}

/** PutEvents takes 1–10 entries per call. */
const ENTRIES_PER_CALL = 10;
const RETRYABLE = new Set(['InternalFailure', 'ThrottlingException']);

export function createEventsPort(client: EventBridgeClient, eventBusName = 'default'): EventsPort {
  const send = async (events: readonly FerryEvent[]) => {
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
      return entry.ErrorCode && event ? [{ event, code: entry.ErrorCode, message: entry.ErrorMessage ?? '' }] : [];
    });
  };
  return {
    async publish(events) {
      try {
        for (let i = 0; i < events.length; i += ENTRIES_PER_CALL) {
          let failed = await send(events.slice(i, i + ENTRIES_PER_CALL));
          const retry = failed.filter((f) => RETRYABLE.has(f.code));
          if (retry.length > 0) {
            failed = [...failed.filter((f) => !RETRYABLE.has(f.code)), ...(await send(retry.map((f) => f.event)))];
          }
          if (failed.length > 0) {
            throw new InternalError(
              'EVENTS_NOT_PUBLISHED',
              `EventBridge refused ${failed.length} of ferry's notification(s) on bus ${eventBusName}: ${failed.map((f) => `${f.code}: ${f.message}`).join('; ')}.`,
              { context: { failed: failed.length, eventBusName } },
            );
          }
        }
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
        throw error;
      }
    },
  };
}
