/**
 * In-memory CloudWatch and EventBridge ports for engine unit tests: alarm states set by the test
 * per account, Lambda samples per function and version set by the test, and captured events.
 * Integration tests use the sandbox's real services instead.
 */
import type { CloudWatchPort } from '../../src/aws/cloudwatch.js';
import type { EventsPort, FerryEvent } from '../../src/aws/eventbridge.js';
import type { Target } from '../../src/core/config.js';
import type { VersionSample } from '../../src/core/traffic-analysis.js';

export class MemoryCloudWatch {
  /** `<account>/<alarm>` → state. Alarms not set here are MISSING. */
  readonly alarms = new Map<string, string>();
  /** `<account>/<function>:<version>` → sample over any window. */
  readonly samples = new Map<string, VersionSample>();
  readonly calls: string[] = [];

  setAlarm(account: string, name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): void {
    this.alarms.set(`${account}/${name}`, state);
  }

  setSample(account: string, fn: string, version: string, sample: VersionSample): void {
    this.samples.set(`${account}/${fn}:${version}`, sample);
  }

  port(target: Target): CloudWatchPort {
    return {
      readAlarms: async (names) => {
        this.calls.push(`DescribeAlarms:${target.accountId}`);
        return names.map((name) => ({ name, state: this.alarms.get(`${target.accountId}/${name}`) ?? 'MISSING' }));
      },
      readVersionSamples: async (q) => {
        this.calls.push(`GetMetricData:${target.accountId}`);
        return Object.fromEntries(
          q.versions.map((v) => [
            v,
            this.samples.get(`${target.accountId}/${q.functionName}:${v}`) ?? { invocations: 0, errors: 0 },
          ]),
        );
      },
    };
  }
}

export class MemoryEvents implements EventsPort {
  readonly published: FerryEvent[] = [];
  async publish(events: readonly FerryEvent[]): Promise<void> {
    this.published.push(...events);
  }
  states(): string[] {
    return this.published.map((e) => String(e.detail.state));
  }
}
