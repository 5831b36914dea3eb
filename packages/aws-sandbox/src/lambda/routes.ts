/**
 * The Lambda REST-JSON surface: which operation a method and path name (the paths the SDK's
 * service model uses), and the small readers that turn query strings and JSON bodies into typed
 * parameters, answering AWS's errors for what cannot be read.
 */
import { AwsError, type SandboxRequest, type SandboxResponse } from '../contracts.js';
import { invalidParameter } from './errors.js';
import type { Json } from './shapes.js';

interface Route {
  readonly operation: string;
  readonly method: string;
  readonly pattern: RegExp;
}

const fn = '/2015-03-31/functions/(?<FunctionName>[^/]+)';

const routes: readonly Route[] = [
  route('CreateFunction', 'POST', '/2015-03-31/functions/?'),
  route('ListFunctions', 'GET', '/2015-03-31/functions/?'),
  route('GetFunction', 'GET', `${fn}/?`),
  route('DeleteFunction', 'DELETE', `${fn}/?`),
  route('GetFunctionConfiguration', 'GET', `${fn}/configuration/?`),
  route('UpdateFunctionConfiguration', 'PUT', `${fn}/configuration/?`),
  route('UpdateFunctionCode', 'PUT', `${fn}/code/?`),
  route('PublishVersion', 'POST', `${fn}/versions/?`),
  route('ListVersionsByFunction', 'GET', `${fn}/versions/?`),
  route('CreateAlias', 'POST', `${fn}/aliases/?`),
  route('ListAliases', 'GET', `${fn}/aliases/?`),
  route('GetAlias', 'GET', `${fn}/aliases/(?<Name>[^/]+)/?`),
  route('UpdateAlias', 'PUT', `${fn}/aliases/(?<Name>[^/]+)/?`),
  route('DeleteAlias', 'DELETE', `${fn}/aliases/(?<Name>[^/]+)/?`),
  route('Invoke', 'POST', `${fn}/invocations/?`),
  route('GetPolicy', 'GET', `${fn}/policy/?`),
  route('GetAccountSettings', 'GET', '/2016-08-19/account-settings/?'),
];

function route(operation: string, method: string, path: string): Route {
  return { operation, method, pattern: new RegExp(`^${path}$`) };
}

export interface MatchedRoute {
  readonly operation: string;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

/** The operation for a request, or undefined when no Lambda route matches. */
export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method.toUpperCase()) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(match.groups ?? {})) {
      if (value !== undefined) params[key] = safeDecode(value);
    }
    return { operation: candidate.operation, params };
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// ---- request readers ----

/** The JSON body of a REST-JSON request; an empty body reads as `{}`. */
export function readJsonBody(req: SandboxRequest): Json {
  const text = req.body.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AwsError(
      'InvalidRequestContentException',
      400,
      `Could not parse request body into json: ${String(error)}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsError(
      'InvalidRequestContentException',
      400,
      'Could not parse request body into json: expected an object',
    );
  }
  return parsed as Json;
}

export function optionalString(body: Json, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`${field} must be a string.`);
  return value;
}

export function requiredString(body: Json, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined || value === '') throw invalidParameter(`${field} is required.`);
  return value;
}

export function optionalNumber(body: Json, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidParameter(`${field} must be a number.`);
  return value;
}

export function optionalBoolean(body: Json, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalidParameter(`${field} must be a boolean.`);
  return value;
}

export function optionalObject(body: Json, field: string): Json | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`${field} must be an object.`);
  return value as Json;
}

/** A map of strings (Tags, Environment.Variables). */
export function optionalStringMap(body: Json, field: string): Record<string, string> | undefined {
  const value = optionalObject(body, field);
  if (value === undefined) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner !== 'string') throw invalidParameter(`${field}.${key} must be a string.`);
  }
  return value as Record<string, string>;
}

/** An integer query parameter such as MaxItems. */
export function queryInteger(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw invalidParameter(`${name} must be an integer.`);
  return value;
}

export function queryString(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  return raw === null || raw === '' ? undefined : raw;
}

// ---- responses ----
// The server adds x-amzn-RequestId from the request's id.

export function jsonResponse(status: number, body: Json, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function emptyResponse(status: number): SandboxResponse {
  return { status, headers: {} };
}

/**
 * Lambda's REST-JSON error shape: the code in `x-amzn-ErrorType`, and `{"Type", "message"}`
 * plus any extra members in the body. A TooManyRequestsException carries Retry-After as a header.
 */
export function renderLambdaError(error: AwsError): SandboxResponse {
  const { retryAfterSeconds, ...members } = error.extra;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-errortype': error.code,
  };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = retryAfterSeconds;
  const body = { Type: error.status >= 500 ? 'Service' : 'User', message: error.message, ...members };
  return { status: error.status, headers, body: JSON.stringify(body) };
}
