/**
 * CloudWatch metric datapoints. A metric is its namespace, name and exact set of dimensions
 * ("Metrics are uniquely defined by a name, a namespace, and zero or more dimensions"), so a
 * query for `{FunctionName}` does not see points recorded under `{FunctionName, Resource}`:
 * Lambda records each invocation under every dimension set it publishes.
 */

export type Dimensions = Readonly<Record<string, string>>;

export interface Datapoint {
  readonly accountId: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimensions;
  readonly value: number;
  readonly unit?: string;
  /** Epoch ms: when the measured thing happened (Lambda: the invocation's start). */
  readonly at: number;
}

export interface DatapointFilter {
  accountId?: string;
  region?: string;
  namespace?: string;
  metricName?: string;
  /** Exact dimension set, as CloudWatch matches it. */
  dimensions?: Dimensions;
}

export function dimensionKey(dimensions: Dimensions): string {
  return JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class MetricStore {
  private readonly points: Datapoint[] = [];

  record(point: Datapoint): void {
    this.points.push(point);
  }

  list(filter: DatapointFilter = {}): Datapoint[] {
    const key = filter.dimensions === undefined ? undefined : dimensionKey(filter.dimensions);
    return this.points.filter(
      (p) =>
        (filter.accountId === undefined || p.accountId === filter.accountId) &&
        (filter.region === undefined || p.region === filter.region) &&
        (filter.namespace === undefined || p.namespace === filter.namespace) &&
        (filter.metricName === undefined || p.metricName === filter.metricName) &&
        (key === undefined || dimensionKey(p.dimensions) === key),
    );
  }
}

export interface SeriesQuery {
  readonly accountId: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimensions;
  readonly stat: string;
  /** Seconds. */
  readonly period: number;
  readonly unit?: string;
  /** Epoch ms, inclusive (already rounded as CloudWatch rounds it). */
  readonly start: number;
  /** Epoch ms, exclusive. */
  readonly end: number;
}

export interface Series {
  readonly timestamps: number[];
  readonly values: number[];
}

/**
 * One series: points in [start, end) grouped into periods counted from `start`, one statistic
 * per period that has data. Periods without data are absent, not zero (GetMetricData returns no
 * datapoint for them). Ascending by time.
 */
export function aggregateSeries(store: MetricStore, query: SeriesQuery): Series {
  const periodMs = query.period * 1000;
  const buckets = new Map<number, number[]>();
  for (const point of store.list(query)) {
    if (point.at < query.start || point.at >= query.end) continue;
    if (query.unit !== undefined && point.unit !== query.unit) continue;
    const bucket = query.start + Math.floor((point.at - query.start) / periodMs) * periodMs;
    const values = buckets.get(bucket) ?? [];
    values.push(point.value);
    buckets.set(bucket, values);
  }
  const timestamps = [...buckets.keys()].sort((a, b) => a - b);
  return { timestamps, values: timestamps.map((t) => computeStatistic(query.stat, buckets.get(t) ?? [])) };
}

const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?|100)$/;

export function isSupportedStatistic(stat: string): boolean {
  return ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'].includes(stat) || PERCENTILE.test(stat);
}

/** Sum, SampleCount, Average, Minimum, Maximum, or pNN (nearest rank). */
export function computeStatistic(stat: string, values: readonly number[]): number {
  switch (stat) {
    case 'Sum':
      return values.reduce((sum, v) => sum + v, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    default: {
      const match = PERCENTILE.exec(stat);
      if (!match) throw new Error(`unsupported statistic ${stat}`);
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil((Number(match[1]) / 100) * sorted.length));
      return sorted[rank - 1] ?? Number.NaN;
    }
  }
}
