/**
 * Injected faults per service and operation: an AWS error, extra latency or a dropped connection,
 * optionally only for the next `times` matching requests.
 */

export interface FaultRule {
  service: string;
  /** Operation name, or '*' for every operation of the service. */
  operation: string;
  /** Only requests signed by this account. */
  accountId?: string;
  error?: { code: string; status: number; message?: string };
  latencyMs?: number;
  dropConnection?: boolean;
  /** How many matching requests this fault applies to; unlimited when absent. */
  times?: number;
}

/**
 * The messages AWS writes for error codes a fault may inject without a message of its own, keyed
 * `<service>:<code>`; other codes use the code itself.
 */
const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  // S3 API Reference, "Error responses": 409 Conflict for a concurrent conditional write.
  's3:ConditionalRequestConflict':
    'A conflicting conditional operation is currently in progress against this resource. Please try again.',
};

/** The message an injected error carries: its own, AWS's usual one for the code, or the code. */
export function describeFaultError(service: string, error: NonNullable<FaultRule['error']>): string {
  return error.message ?? DEFAULT_MESSAGES[`${service}:${error.code}`] ?? error.code;
}

interface ActiveFault {
  readonly id: number;
  readonly rule: FaultRule;
  remaining: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  /** Adds a fault and returns a function that removes it. */
  add(rule: FaultRule): () => void {
    if (!rule.error && rule.latencyMs === undefined && !rule.dropConnection) {
      throw new Error('a fault needs error, latencyMs or dropConnection');
    }
    const fault: ActiveFault = { id: this.nextId++, rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.faults.push(fault);
    return () => this.remove(fault.id);
  }

  clear(): void {
    this.faults = [];
  }

  list(): FaultRule[] {
    return this.faults.map((fault) => ({ ...fault.rule }));
  }

  /** Consumes the first fault matching this request, if any. */
  take(service: string, operation: string, accountId: string | undefined): FaultRule | undefined {
    const fault = this.faults.find(
      (candidate) =>
        candidate.rule.service === service &&
        (candidate.rule.operation === '*' || candidate.rule.operation === operation) &&
        (candidate.rule.accountId === undefined || candidate.rule.accountId === accountId),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.remove(fault.id);
    return fault.rule;
  }

  private remove(id: number): void {
    this.faults = this.faults.filter((fault) => fault.id !== id);
  }
}
