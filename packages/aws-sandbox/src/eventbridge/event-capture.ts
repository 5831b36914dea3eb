/**
 * Events accepted by PutEvents, kept in order so tests (and out-of-process readers, through the
 * admin routes) can see exactly what was published. The sandbox has no rules or targets: an
 * event is captured, not delivered.
 */

export interface CapturedEvent {
  readonly eventId: string;
  readonly accountId: string;
  readonly region: string;
  readonly eventBusName: string;
  readonly eventBusArn: string;
  readonly source: string;
  readonly detailType: string;
  /** Detail as parsed JSON (PutEvents requires a JSON object). */
  readonly detail: Record<string, unknown>;
  readonly resources: readonly string[];
  /** The event's time (the entry's Time, or when it was received), ISO 8601. */
  readonly time: string;
  /** When the sandbox received it, epoch ms of the sandbox clock. */
  readonly receivedAt: number;
}

export interface CapturedEventFilter {
  accountId?: string;
  source?: string;
  detailType?: string;
  eventBusName?: string;
}

export function eventBusArn(region: string, accountId: string, name: string): string {
  return `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
}

export class EventCapture {
  private events: CapturedEvent[] = [];

  add(event: CapturedEvent): void {
    this.events.push(event);
  }

  list(filter: CapturedEventFilter = {}): CapturedEvent[] {
    return this.events.filter(
      (e) =>
        (filter.accountId === undefined || e.accountId === filter.accountId) &&
        (filter.source === undefined || e.source === filter.source) &&
        (filter.detailType === undefined || e.detailType === filter.detailType) &&
        (filter.eventBusName === undefined || e.eventBusName === filter.eventBusName),
    );
  }

  clear(): void {
    this.events = [];
  }
}
