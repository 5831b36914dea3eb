import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createEventsPort } from '../../../src/aws/eventbridge.js';
import { InternalError } from '../../../src/core/errors.js';

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

  it('retries a throttled entry once, and fails naming what EventBridge refused', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    await port.publish([event(1), event(2)]);
    expect(eb.commandCalls(PutEventsCommand)[1]?.args[0].input.Entries?.[0]?.Detail).toBe('{"n":2}');

    eb.reset();
    eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' }],
    });
    const error = await port.publish([event(3)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as InternalError).message).toMatch(
      /refused 1 of ferry's notification\(s\) on bus default: MalformedDetail: bad/,
    );
  });
});
