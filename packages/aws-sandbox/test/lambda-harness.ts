/**
 * Shared helpers for the Lambda sandbox tests: a manual clock, a service with in-memory S3 and a
 * switchable authorizer, hand-built SandboxRequests, and zips built with yazl.
 */
import yazl from 'yazl';
import {
  AwsError,
  type Caller,
  type LambdaSettings,
  type SandboxRequest,
  type SandboxResponse,
} from '../src/contracts.js';
import { createLambdaService, type LambdaSandboxService } from '../src/lambda/index.js';

export const ACCOUNT = '111111111111';
export const OTHER_ACCOUNT = '222222222222';
export const REGION = 'eu-west-1';

export const deployer: Caller = {
  accountId: ACCOUNT,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ferry-deploy/session`,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/ferry-deploy`,
  accessKeyId: 'ASIATESTDEPLOYER',
};

export class ManualClock {
  constructor(public t = Date.parse('2026-03-01T00:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Builds a zip from file names to contents. */
export function makeZip(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) {
    zip.addBuffer(Buffer.from(content), name, { mtime: new Date('2026-01-01T00:00:00Z') });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** A handler zip whose result names its build, so tests can tell which code served. */
export function handlerZip(build: string): Promise<Buffer> {
  return makeZip({
    'index.mjs': `export const handler = async (event) => ({ build: ${JSON.stringify(build)}, event, version: process.env.AWS_LAMBDA_FUNCTION_VERSION });\n`,
  });
}

export interface Harness {
  readonly service: LambdaSandboxService;
  readonly clock: ManualClock;
  readonly settings: LambdaSettings;
  /** `bucket/key` (optionally `#versionId`) to bytes. */
  readonly s3: Map<string, Buffer>;
  /** Actions (`lambda:X`) the authorizer refuses. */
  readonly denied: Set<string>;
  readonly authorizations: Array<{ action: string; resource: string }>;
}

export function createHarness(settings: Partial<LambdaSettings> = {}, random?: () => number): Harness {
  const clock = new ManualClock();
  const fullSettings: LambdaSettings = {
    updateDelayMs: 1000,
    failNextUpdates: 0,
    failureReason: 'Simulated failure',
    rateLimits: false,
    executeHandlers: false,
    ...settings,
  };
  const s3 = new Map<string, Buffer>();
  const denied = new Set<string>();
  const authorizations: Harness['authorizations'] = [];
  const service = createLambdaService(
    {
      clock,
      settings: fullSettings,
      authorizer: {
        isAllowed: (_caller, action, resource) => {
          authorizations.push({ action, resource });
          return !denied.has(action);
        },
      },
      readS3Object: async (_caller, input) => {
        if (input.bucket === 'denied-bucket') throw new AwsError('AccessDenied', 403, 'Access Denied');
        if (input.bucket === 'us-bucket') {
          throw new AwsError(
            'PermanentRedirect',
            301,
            'The bucket is in this region: us-east-1. Please use this region to retry the request',
          );
        }
        const key = `${input.bucket}/${input.key}${input.versionId ? `#${input.versionId}` : ''}`;
        const bytes = s3.get(key);
        if (!bytes) throw new AwsError('NoSuchKey', 404, 'The specified key does not exist.');
        return bytes;
      },
    },
    random ? { random } : {},
  );
  return { service, clock, settings: fullSettings, s3, denied, authorizations };
}

export interface CallInput {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: Buffer;
  headers?: Record<string, string>;
  caller?: Caller;
  region?: string;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response JSON loosely
  json: any;
}

/** Dispatches a request as the sandbox server does: operation, handle, and renderError on AwsError. */
export async function call(harness: Harness, input: CallInput): Promise<CallResult> {
  const body = input.rawBody ?? (input.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(input.body)));
  const req: SandboxRequest = {
    method: input.method,
    path: input.path,
    query: new URLSearchParams(input.query ?? {}),
    headers: input.headers ?? {},
    body,
    caller: input.caller ?? deployer,
    region: input.region ?? REGION,
    service: 'lambda',
    trailers: {},
  };
  const { service } = harness;
  let response: SandboxResponse;
  try {
    response = await service.handle(req, service.operation(req));
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    response = service.renderError(error, req);
  }
  const text = response.body === undefined ? '' : response.body.toString();
  const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers, text, json };
}

export const fnPath = (name: string, suffix = ''): string =>
  `/2015-03-31/functions/${encodeURIComponent(name)}${suffix}`;

export async function createFunction(
  harness: Harness,
  name: string,
  zip: Buffer,
  extra: Record<string, unknown> = {},
): Promise<CallResult> {
  return call(harness, {
    method: 'POST',
    path: '/2015-03-31/functions',
    body: {
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: `arn:aws:iam::${ACCOUNT}:role/app-role`,
      Handler: 'index.handler',
      Code: { ZipFile: zip.toString('base64') },
      ...extra,
    },
  });
}

export async function updateCode(
  harness: Harness,
  name: string,
  zip: Buffer,
  extra: Record<string, unknown> = {},
): Promise<CallResult> {
  return call(harness, {
    method: 'PUT',
    path: fnPath(name, '/code'),
    body: { ZipFile: zip.toString('base64'), ...extra },
  });
}

export async function publish(harness: Harness, name: string, body: Record<string, unknown> = {}): Promise<CallResult> {
  return call(harness, { method: 'POST', path: fnPath(name, '/versions'), body });
}

export async function getConfig(harness: Harness, name: string, qualifier?: string): Promise<CallResult> {
  return call(harness, {
    method: 'GET',
    path: fnPath(name, '/configuration'),
    ...(qualifier === undefined ? {} : { query: { Qualifier: qualifier } }),
  });
}

/**
 * Rewrites the uncompressed size a zip declares for its (single, deflated) entry, in both the
 * local and the central directory header: a package that claims to be large without being large.
 */
export function declareUnzippedSize(zip: Buffer, size: number): Buffer {
  const patched = Buffer.from(zip);
  for (let offset = 0; offset + 4 <= patched.length; offset += 1) {
    const signature = patched.readUInt32LE(offset);
    if (signature === 0x04034b50) patched.writeUInt32LE(size, offset + 22);
    if (signature === 0x02014b50) patched.writeUInt32LE(size, offset + 24);
  }
  return patched;
}

/**
 * Serves the Lambda service alone over loopback HTTP, every request attributed to `deployer`
 * (no SigV4 verification: that is the sandbox server's job), so the real SDK client can be
 * tested against the wire format before and apart from the full sandbox.
 */
export async function serveLambdaOverHttp(harness: Harness): Promise<{ endpoint: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://localhost');
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(incoming.headers.authorization ?? ''));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (typeof value === 'string') headers[name.toLowerCase()] = value;
      }
      const rawPath = (incoming.url ?? '/').split('?')[0] ?? '/';
      callRaw(harness, {
        method: incoming.method ?? 'GET',
        path: rawPath,
        query: url.searchParams,
        headers,
        body: Buffer.concat(chunks),
        region: scope?.[1] ?? REGION,
      }).then(
        (response) => {
          outgoing.writeHead(response.status, response.headers ?? {});
          outgoing.end(response.body ?? '');
        },
        (error: unknown) => {
          outgoing.writeHead(500, { 'content-type': 'text/plain' });
          outgoing.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function callRaw(
  harness: Harness,
  input: {
    method: string;
    path: string;
    query: URLSearchParams;
    headers: Record<string, string>;
    body: Buffer;
    region: string;
  },
): Promise<SandboxResponse> {
  const req: SandboxRequest = { ...input, caller: deployer, service: 'lambda', trailers: {} };
  const { service } = harness;
  try {
    return await service.handle(req, service.operation(req));
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    return service.renderError(error, req);
  }
}
