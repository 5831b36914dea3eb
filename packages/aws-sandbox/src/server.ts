/**
 * The sandbox's HTTP front: one loopback server for every service. Per request it decodes
 * aws-chunked bodies, authenticates the SigV4 signature against the key the sandbox issued, routes
 * by the credential scope's service, applies injected faults, dispatches, renders AWS-shaped errors
 * and appends to the request log.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountStore } from './accounts.js';
import { ADMIN_PREFIX, type AdminDeps, handleAdminRequest } from './admin.js';
import { AuthFailure, createAuthError } from './auth-errors.js';
import { decodeAwsChunked, isAwsChunked } from './aws-chunked.js';
import {
  AwsError,
  type Caller,
  type Clock,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxService,
} from './contracts.js';
import { describeFaultError, type FaultRegistry } from './faults.js';
import { generateRequestId } from './ids.js';
import type { InterceptorSet } from './intercept.js';
import type { RequestLog } from './request-log.js';
import { type ParsedAuthorization, parseAuthorization, verifySignature } from './sigv4.js';

export interface ServerDeps extends AdminDeps {
  readonly services: ReadonlyMap<string, SandboxService>;
  readonly accounts: AccountStore;
  readonly clock: Clock;
  readonly faults: FaultRegistry;
  readonly log: RequestLog;
  /** Test hooks that see each authenticated request before it is dispatched. */
  readonly interceptors?: InterceptorSet;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(deps: ServerDeps, port = 0, host = '127.0.0.1'): Promise<RunningServer> {
  const server = createServer((req, res) => {
    serveRequest(deps, req, res).catch((error: unknown) => {
      // Only reached on a bug in the sandbox itself: answer something rather than hang the client.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error instanceof Error ? error.stack : String(error));
    });
  });
  // SDK clients keep connections alive; keep the server's idle timeout above theirs.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** A request as it arrives on the wire, whatever carried it (a socket, or an in-process client). */
export interface RawRequest {
  readonly method: string;
  /** Path and query string, percent-encoded as sent. */
  readonly url: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What the sandbox answers: a response, or a connection dropped (an injected fault or an interceptor that threw). */
export type RawOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly body?: Buffer;
    }
  | { readonly kind: 'dropped'; readonly reason: string };

async function serveRequest(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const outcome = await answerRequest(deps, {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: readHeaders(req),
    body: await readBody(req),
  });
  if (outcome.kind === 'dropped') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(outcome.status, outcome.headers);
  res.end(outcome.body);
}

/**
 * Answers one request: authenticates it, names the operation, runs interceptors and faults,
 * dispatches to the service and logs it. Both transports (HTTP and in-process) go through here.
 */
export async function answerRequest(deps: ServerDeps, raw: RawRequest): Promise<RawOutcome> {
  const rawUrl = raw.url;
  const url = new URL(rawUrl, 'http://sandbox.local');
  const rawBody = raw.body;
  if (url.pathname.startsWith(ADMIN_PREFIX)) return answerAdmin(deps, raw.method, url, rawBody);

  const headers = raw.headers;
  const auth = parseAuthorization(headers.authorization);
  const serviceName = auth?.service ?? guessServiceName(headers);
  const service = deps.services.get(serviceName);
  if (!service) return finishResponse({ status: 400, body: `The sandbox has no service "${serviceName}"` });

  const queryIndex = rawUrl.indexOf('?');
  const rawPath = queryIndex < 0 ? rawUrl : rawUrl.slice(0, queryIndex);
  const rawQuery = queryIndex < 0 ? '' : rawUrl.slice(queryIndex + 1);
  const placeholder: Caller = { accountId: '', arn: '', accessKeyId: auth?.accessKeyId ?? '' };
  let request: SandboxRequest = {
    method: raw.method,
    path: rawPath,
    query: new URLSearchParams(rawQuery),
    headers,
    body: rawBody,
    caller: placeholder,
    region: auth?.region ?? 'us-east-1',
    service: serviceName,
    trailers: {},
    requestId: serviceName === 's3' ? randomBytes(8).toString('hex').toUpperCase() : generateRequestId(),
  };
  const operation = nameOperation(service, request);
  let response: SandboxResponse;
  let errorCode: string | undefined;
  try {
    request = { ...request, ...decodeBody(serviceName, headers, rawBody) };
    const caller = await authenticate(deps, request, auth, { rawPath, rawQuery, rawBody });
    request = { ...request, caller };
    const dropped = await runInterceptors(deps, request, operation, url.pathname);
    if (dropped) {
      logRequest(deps, request, operation, 0, 'ConnectionDropped');
      return { kind: 'dropped', reason: dropped };
    }
    const fault = deps.faults.take(serviceName, operation, caller.accountId);
    if (fault?.latencyMs) await sleep(fault.latencyMs);
    if (fault?.dropConnection) {
      logRequest(deps, request, operation, 0, 'ConnectionDropped');
      return { kind: 'dropped', reason: 'the sandbox dropped the connection (injected fault)' };
    }
    if (fault?.error) {
      throw new AwsError(fault.error.code, fault.error.status, describeFaultError(serviceName, fault.error));
    }
    response = await service.handle(request, operation);
  } catch (error) {
    const awsError =
      error instanceof AwsError
        ? error
        : new AwsError(
            'InternalFailure',
            500,
            `The sandbox failed: ${error instanceof Error ? error.message : String(error)}`,
          );
    errorCode = awsError.code;
    response = service.renderError(awsError, request);
  }
  logRequest(deps, request, operation, response.status, errorCode);
  return finishResponse(response, request);
}

/** Runs the test's interceptors; one that throws drops the connection, as a network failure would. */
async function runInterceptors(
  deps: ServerDeps,
  request: SandboxRequest,
  operation: string,
  pathname: string,
): Promise<string | undefined> {
  if (!deps.interceptors) return undefined;
  try {
    await deps.interceptors.run({
      service: request.service,
      operation,
      accountId: request.caller.accountId,
      callerArn: request.caller.arn,
      method: request.method,
      path: safeDecode(pathname),
      query: Object.fromEntries(request.query),
    });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A request the service cannot even name (malformed percent-encoding…) is logged as Unknown. */
function nameOperation(service: SandboxService, request: SandboxRequest): string {
  try {
    return service.operation(request);
  } catch {
    return 'Unknown';
  }
}

/** Without an Authorization header, only S3 is plausible (anonymous or presigned requests). */
function guessServiceName(headers: Readonly<Record<string, string>>): string {
  if (headers['x-amz-target']?.startsWith('CodePipeline')) return 'codepipeline';
  return 's3';
}

function decodeBody(
  service: string,
  headers: Readonly<Record<string, string>>,
  rawBody: Buffer,
): Pick<SandboxRequest, 'body' | 'trailers'> {
  if (isAwsChunked(headers)) return decodeAwsChunked(rawBody);
  const declared = headers['x-amz-content-sha256'];
  // S3 checks a literal payload hash against the body (S3 API Reference, "Common Request Headers").
  if (service === 's3' && declared && /^[0-9a-f]{64}$/.test(declared)) {
    const actual = createHash('sha256').update(rawBody).digest('hex');
    if (actual !== declared) {
      throw new AwsError(
        'XAmzContentSHA256Mismatch',
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        {
          ClientComputedContentSHA256: declared,
          S3ComputedContentSHA256: actual,
        },
      );
    }
  }
  return { body: rawBody, trailers: {} };
}

/** Resolves the caller from the access key, then checks session token, expiry and signature. */
async function authenticate(
  deps: ServerDeps,
  request: SandboxRequest,
  auth: ParsedAuthorization | undefined,
  raw: { rawPath: string; rawQuery: string; rawBody: Buffer },
): Promise<Caller> {
  const fail = (failure: AuthFailure): AwsError => createAuthError(request.service, failure);
  if (!auth) throw fail(AuthFailure.Missing);
  const key = deps.accounts.findKey(auth.accessKeyId);
  if (!key) throw fail(AuthFailure.UnknownKey);
  if (key.sessionToken !== undefined) {
    if (request.headers['x-amz-security-token'] !== key.sessionToken) throw fail(AuthFailure.BadToken);
    if (key.expiresAt !== undefined && deps.clock.now() >= key.expiresAt) throw fail(AuthFailure.Expired);
  }
  const valid = await verifySignature(
    {
      method: request.method,
      host: request.headers.host ?? '',
      rawPath: raw.rawPath,
      rawQuery: raw.rawQuery,
      headers: request.headers,
      body: raw.rawBody,
    },
    auth,
    key,
  );
  if (!valid) throw fail(AuthFailure.BadSignature);
  return key.caller;
}

function logRequest(
  deps: ServerDeps,
  request: SandboxRequest,
  operation: string,
  status: number,
  errorCode?: string,
): void {
  deps.log.append({
    service: request.service,
    operation,
    accountId: request.caller.accountId || undefined,
    ...(request.caller.arn ? { callerArn: request.caller.arn } : {}),
    status,
    ...(errorCode ? { errorCode } : {}),
    at: deps.clock.now(),
  });
}

function finishResponse(response: SandboxResponse, request?: SandboxRequest): RawOutcome {
  const headers: Record<string, string> = { ...response.headers };
  const body = response.body === undefined ? undefined : Buffer.from(response.body);
  if (request && request.service !== 's3' && !headers['x-amzn-requestid'] && request.requestId) {
    headers['x-amzn-requestid'] = request.requestId;
  }
  if (body && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  if (!body && headers['content-length'] === undefined && response.status !== 204 && response.status !== 304) {
    headers['content-length'] = '0';
  }
  return {
    kind: 'response',
    status: response.status,
    headers,
    ...(body && request?.method !== 'HEAD' ? { body } : {}),
  };
}

function answerAdmin(deps: ServerDeps, method: string, url: URL, body: Buffer): RawOutcome {
  const answer = handleAdminRequest(deps, method, url, body);
  const text = answer.body === undefined ? undefined : JSON.stringify(answer.body);
  return finishResponse({
    status: answer.status,
    ...(text === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: text }),
  });
}
