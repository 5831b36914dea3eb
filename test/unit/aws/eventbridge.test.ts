import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createEventsPort } from '../../../src/aws/eventbridge.js';
import { AccessError, ThrottledError } from '../../../src/core/errors.js';

const eb = mockClient(EventBridgeClient);
// Test files share a worker's modules (vitest.config.ts): give the client's real send back.
afterAll(() => eb.restore());
const port = createEventsPort(new EventBridgeClient({ region: 'eu-west-1' }));
const event = (n: number) => ({ detailType: 'ferry deployment state change', detail: { n } });

beforeEach(() => eb.reset());

describe('EventBridge adapter', () => {
  it('publishes with source ferry on the default bus, ten entries per call', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: 'e' })),
    }));
    await port.publish(Array.from({ length: 12 }, (_, i) => event(i)));
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    expect(eb.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]).toEqual({
      Source: 'ferry',
      DetailType: 'ferry deployment state change',
      Detail: '{"n":0}',
      EventBusName: 'default',
    });
  });

  it('answers the entries EventBridge refused, saying which a retry may fix', async () => {
    eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [
        { EventId: 'a' },
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' },
      ],
    });
    const refused = await port.publish([event(1), event(2), event(3)]);
    expect(refused).toEqual([
      { event: event(2), code: 'ThrottlingException', message: 'slow down', retryable: true },
      { event: event(3), code: 'MalformedDetail', message: 'bad', retryable: false },
    ]);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('a throttled call is a ThrottledError (transient); access denied names the grant', async () => {
    eb.on(PutEventsCommand).rejectsOnce(
      new EventBridgeServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    const throttled = await port.publish([event(1)]).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect((throttled as ThrottledError).code).toBe('EVENTS_THROTTLED');
    eb.reset();
    eb.on(PutEventsCommand).rejects(
      new EventBridgeServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized',
      }),
    );
    const denied = await port.publish([event(1)]).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AccessError);
    expect((denied as AccessError).message).toMatch(/may not call events:PutEvents on bus default/);
  });
});
