/**
 * Delivery of S3 events to subscribers, asynchronously and at least once, like S3 invoking a
 * Lambda function asynchronously: a handler that throws is retried up to two more times, then the
 * event becomes a dead letter. Faults duplicate, delay, hold or reorder deliveries; `drain()`
 * releases whatever is held and resolves once nothing is pending, so tests never sleep.
 */
import type { S3Event } from './event-record.js';

export interface ObjectCreatedFilter {
  prefix?: string;
  suffix?: string;
  /** Shown as `configurationId` in the records. */
  id?: string;
}

export type S3EventHandler = (event: S3Event) => unknown;

export interface EventFaults {
  /** Deliveries per event (1 = exactly once; AWS promises at least once). */
  duplicate: number;
  /** Delay before each delivery, ms. */
  delayMs: number;
  /** Hold deliveries until this many are waiting, then release them newest first (0 or 1 = off). */
  reorderBatch: number;
  /**
   * Hold every delivery until `drain()` (the sandbox's `drainEvents()`) or `release()`, so a test can
   * observe the window between an S3 write and its event without timers.
   */
  hold: boolean;
}

export interface DeadLetter {
  readonly subscriptionId: string;
  readonly event: S3Event;
  readonly error: string;
  readonly attempts: number;
}

export interface DeliveryRecord {
  readonly subscriptionId: string;
  readonly event: S3Event;
  readonly attempt: number;
  readonly ok: boolean;
}

interface Subscription {
  readonly id: string;
  readonly bucket: string;
  readonly filter: ObjectCreatedFilter;
  readonly handler: S3EventHandler;
}

interface Delivery {
  readonly subscription: Subscription;
  readonly event: S3Event;
}

/** Lambda's asynchronous invocation: the first attempt plus two retries. */
const MAX_ATTEMPTS = 3;

export class S3EventBus {
  private subscriptions: Subscription[] = [];
  private held: Delivery[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly deadLetterList: DeadLetter[] = [];
  private readonly deliveryList: DeliveryRecord[] = [];
  private faults: EventFaults = { duplicate: 1, delayMs: 0, reorderBatch: 0, hold: false };
  private nextId = 1;

  subscribe(bucket: string, filter: ObjectCreatedFilter, handler: S3EventHandler): () => void {
    const subscription = { id: filter.id ?? `sandbox-subscription-${this.nextId++}`, bucket, filter, handler };
    this.subscriptions.push(subscription);
    return () => {
      this.subscriptions = this.subscriptions.filter((candidate) => candidate !== subscription);
    };
  }

  /** Subscriptions whose bucket, prefix and suffix match the (decoded) key. */
  findSubscriptions(bucket: string, key: string): Array<{ id: string }> {
    return this.subscriptions.filter(
      (s) => s.bucket === bucket && key.startsWith(s.filter.prefix ?? '') && key.endsWith(s.filter.suffix ?? ''),
    );
  }

  setFaults(faults: Partial<EventFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  /** Queues one event for one subscription (records carry the subscription's configurationId). */
  publish(subscriptionId: string, event: S3Event): void {
    const subscription = this.subscriptions.find((candidate) => candidate.id === subscriptionId);
    if (!subscription) return;
    for (let copy = 0; copy < Math.max(1, this.faults.duplicate); copy++) {
      this.held.push({ subscription, event: structuredClone(event) });
    }
    if (this.faults.hold) return;
    if (this.faults.reorderBatch <= 1 || this.held.length >= this.faults.reorderBatch) this.releaseHeld();
  }

  /** Starts delivering everything held (by `hold` or an incomplete reorder batch) without waiting for it. */
  release(): void {
    this.releaseHeld();
  }

  /** Resolves when every delivery (including retries and events published by handlers) has settled. */
  async drain(): Promise<void> {
    for (;;) {
      this.releaseHeld();
      if (this.pending.size === 0) return;
      await Promise.allSettled([...this.pending]);
    }
  }

  deadLetters(): readonly DeadLetter[] {
    return [...this.deadLetterList];
  }

  deliveries(): readonly DeliveryRecord[] {
    return [...this.deliveryList];
  }

  private releaseHeld(): void {
    const batch = this.faults.reorderBatch > 1 ? this.held.reverse() : this.held;
    this.held = [];
    for (const delivery of batch) this.track(this.deliver(delivery, this.faults.delayMs));
  }

  private track(promise: Promise<void>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private async deliver(delivery: Delivery, delayMs: number): Promise<void> {
    // Always asynchronous: the PutObject answer goes out before any handler runs.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    let lastError = '';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        await delivery.subscription.handler(delivery.event);
        this.deliveryList.push({ subscriptionId: delivery.subscription.id, event: delivery.event, attempt, ok: true });
        return;
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.deliveryList.push({ subscriptionId: delivery.subscription.id, event: delivery.event, attempt, ok: false });
      }
    }
    this.deadLetterList.push({
      subscriptionId: delivery.subscription.id,
      event: delivery.event,
      error: lastError,
      attempts: MAX_ATTEMPTS,
    });
  }
}
