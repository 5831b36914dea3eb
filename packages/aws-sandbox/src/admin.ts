/**
 * Loopback-only admin routes under /_sandbox/, for clients in other processes (benchmarks, the
 * CLI's users): read the request log, add and clear faults, mint role credentials (the seeding
 * path, since AssumeRole refuses root keys). Not part of any AWS API.
 */
import type { SandboxCredentials } from './accounts.js';
import type { FaultRegistry, FaultRule } from './faults.js';
import type { RequestFilter, RequestLog } from './request-log.js';
import type { IssueRoleCredentialsInput } from './sts/role-session.js';

export const ADMIN_PREFIX = '/_sandbox/';

export interface AdminDeps {
  readonly log: RequestLog;
  readonly faults: FaultRegistry;
  readonly issueRoleCredentials: (input: IssueRoleCredentialsInput) => SandboxCredentials;
}

export interface AdminAnswer {
  status: number;
  body: unknown;
}

export function handleAdminRequest(deps: AdminDeps, method: string, url: URL, body: Buffer): AdminAnswer {
  const route = `${method} ${url.pathname.slice(ADMIN_PREFIX.length - 1)}`;
  switch (route) {
    case 'GET /health':
      return { status: 200, body: { ok: true } };
    case 'GET /requests': {
      const filter = readFilter(url.searchParams);
      return { status: 200, body: { count: deps.log.count(filter), requests: deps.log.list(filter) } };
    }
    case 'DELETE /requests':
      deps.log.clear();
      return { status: 204, body: undefined };
    case 'GET /faults':
      return { status: 200, body: { faults: deps.faults.list() } };
    case 'POST /faults':
      return addFault(deps, body);
    case 'DELETE /faults':
      deps.faults.clear();
      return { status: 204, body: undefined };
    case 'POST /role-credentials':
      return issueRoleCredentials(deps, body);
    default:
      return { status: 404, body: { message: `no admin route ${route}` } };
  }
}

function readFilter(params: URLSearchParams): RequestFilter {
  const filter: RequestFilter = {};
  for (const name of ['service', 'operation', 'accountId', 'errorCode'] as const) {
    const value = params.get(name);
    if (value !== null) filter[name] = value;
  }
  const status = params.get('status');
  if (status !== null) filter.status = Number(status);
  return filter;
}

function addFault(deps: AdminDeps, body: Buffer): AdminAnswer {
  try {
    const rule = JSON.parse(body.toString('utf8')) as FaultRule;
    if (typeof rule.service !== 'string' || typeof rule.operation !== 'string') {
      return { status: 400, body: { message: 'a fault needs service and operation' } };
    }
    deps.faults.add(rule);
    return { status: 201, body: { faults: deps.faults.list() } };
  } catch (error) {
    return { status: 400, body: { message: error instanceof Error ? error.message : String(error) } };
  }
}

/** `{ roleArn, sessionName, durationSeconds? }` → `{ accessKeyId, secretAccessKey, sessionToken, expiration }`. */
function issueRoleCredentials(deps: AdminDeps, body: Buffer): AdminAnswer {
  try {
    const input = JSON.parse(body.toString('utf8')) as IssueRoleCredentialsInput;
    if (typeof input.roleArn !== 'string' || typeof input.sessionName !== 'string') {
      return { status: 400, body: { message: 'role credentials need roleArn and sessionName' } };
    }
    const credentials = deps.issueRoleCredentials({
      roleArn: input.roleArn,
      sessionName: input.sessionName,
      ...(input.durationSeconds !== undefined ? { durationSeconds: Number(input.durationSeconds) } : {}),
    });
    return { status: 200, body: { ...credentials, expiration: credentials.expiration?.toISOString() } };
  } catch (error) {
    return { status: 400, body: { message: error instanceof Error ? error.message : String(error) } };
  }
}
