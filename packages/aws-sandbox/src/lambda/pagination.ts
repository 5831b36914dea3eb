/** The Marker/MaxItems pagination of Lambda's List operations. */
import { invalidParameter, validationError } from './errors.js';

/** One page of `items`; the marker is opaque to callers (an encoded index). */
export function paginate<T>(
  items: readonly T[],
  marker: string | undefined,
  maxItems: number | undefined,
): { page: T[]; nextMarker: string | undefined } {
  const start = marker === undefined || marker === '' ? 0 : decodeMarker(marker);
  const size = maxItems === undefined ? 50 : maxItems;
  if (!Number.isInteger(size) || size < 1 || size > 10_000) {
    throw validationError(
      `1 validation error detected: Value '${String(maxItems)}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`,
    );
  }
  const page = items.slice(start, start + size);
  const next = start + size;
  return { page, nextMarker: next < items.length ? encodeMarker(next) : undefined };
}

function encodeMarker(index: number): string {
  return Buffer.from(JSON.stringify({ i: index })).toString('base64url');
}

function decodeMarker(marker: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'));
    const index = (parsed as { i?: unknown }).i;
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0) return index;
  } catch {
    // fall through to the error below
  }
  throw invalidParameter('Invalid Marker');
}
