/**
 * The in-process transport: an SDK v3 request handler (`requestHandler` in a client's
 * configuration) that hands each request to the sandbox without a socket. Everything else is as
 * over HTTP: the SDK serializes and signs, the sandbox verifies the signature, authorizes, answers
 * in the service's wire shape, and the SDK parses that answer into its own exceptions. Unit tests
 * get AWS's behaviour at the cost of a function call.
 */
import { Readable } from 'node:stream';
import type { RawOutcome, RawRequest } from './server.js';

/** The parts of the SDK's HttpRequest the sandbox reads (structural: no SDK dependency). */
export interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[] | null | undefined>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface SdkHttpResponse {
  readonly statusCode: number;
  readonly reason?: string;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

/** What `requestHandler` in an SDK client's configuration accepts. */
export interface InProcessRequestHandler {
  handle(request: SdkHttpRequest, options?: { abortSignal?: unknown }): Promise<{ response: SdkHttpResponse }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

/** Thrown to the SDK client when the sandbox drops the connection (as Node's ECONNRESET would be). */
export class InProcessConnectionError extends Error {
  readonly code = 'ECONNRESET';
  constructor(reason: string) {
    super(`socket hang up: ${reason}`);
    this.name = 'InProcessConnectionError';
  }
}

export function createInProcessHandler(answer: (raw: RawRequest) => Promise<RawOutcome>): InProcessRequestHandler {
  return {
    async handle(request) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
      const query = buildQueryString(request.query ?? {});
      const outcome = await answer({
        method: request.method,
        url: query ? `${request.path}?${query}` : request.path,
        headers,
        body: await readBody(request.body),
      });
      if (outcome.kind === 'dropped') throw new InProcessConnectionError(outcome.reason);
      return {
        response: {
          statusCode: outcome.status,
          headers: outcome.headers,
          body: Readable.from(outcome.body ? [outcome.body] : []),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

/** As the SDK's Node handler writes the query string (RFC 3986 escaping, repeated keys for lists). */
function buildQueryString(query: Readonly<Record<string, string | readonly string[] | null | undefined>>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    const name = escapeUri(key);
    if (value === null || value === undefined) parts.push(name);
    else if (Array.isArray(value)) for (const item of value) parts.push(`${name}=${escapeUri(item)}`);
    else parts.push(`${name}=${escapeUri(value as string)}`);
  }
  return parts.join('&');
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(chunks);
  }
  throw new TypeError(`the in-process sandbox cannot read a request body of type ${typeof body}`);
}
