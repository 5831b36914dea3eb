/** Every request the sandbox answered, for tests and benchmarks (operation, account, status). */

export interface RequestLogEntry {
  readonly service: string;
  readonly operation: string;
  /** Account of the signing key; undefined when the key was unknown. */
  readonly accountId: string | undefined;
  /** Who signed it: arn:aws:iam::<acct>:root or arn:aws:sts::<acct>:assumed-role/<role>/<session>. */
  readonly callerArn?: string;
  readonly status: number;
  /** AWS error code when the request failed. */
  readonly errorCode?: string;
  /** Sandbox clock, epoch ms. */
  readonly at: number;
}

export interface RequestFilter {
  service?: string;
  operation?: string;
  accountId?: string;
  callerArn?: string;
  status?: number;
  errorCode?: string;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];

  append(entry: RequestLogEntry): void {
    this.entries.push(entry);
  }

  list(filter: RequestFilter = {}): RequestLogEntry[] {
    return this.entries.filter((entry) =>
      Object.entries(filter).every(
        ([name, value]) => value === undefined || entry[name as keyof RequestLogEntry] === value,
      ),
    );
  }

  count(filter: RequestFilter = {}): number {
    return this.list(filter).length;
  }

  clear(): void {
    this.entries = [];
  }
}
