import { AwsError, type SandboxRequest, type SandboxResponse } from '../contracts.js';
import { generateRequestId } from '../ids.js';
import { escapeXml } from '../xml.js';

/** An S3 error that also carries response headers (x-amz-delete-marker, x-amz-bucket-region…). */
export class S3Error extends AwsError {
  constructor(
    code: string,
    status: number,
    message: string,
    extra: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(code, status, message, extra);
  }
}

/** S3's `<Error>` document; HEAD answers carry no body, so the SDK names the error from the status. */
export function renderS3Error(error: AwsError, req: SandboxRequest): SandboxResponse {
  const requestId = req.requestId ?? generateRequestId();
  const headers: Record<string, string> = {
    'x-amz-request-id': requestId,
    'x-amz-id-2': Buffer.from(requestId).toString('base64'),
    ...(error instanceof S3Error ? error.headers : {}),
  };
  if (req.method === 'HEAD') return { status: error.status, headers };
  let fields = '';
  for (const [name, value] of Object.entries(error.extra)) fields += `<${name}>${escapeXml(value)}</${name}>`;
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message>${fields}<RequestId>${requestId}</RequestId>` +
    `<HostId>${headers['x-amz-id-2']}</HostId></Error>`;
  return { status: error.status, headers: { ...headers, 'content-type': 'application/xml' }, body };
}

export function createNoSuchBucket(bucket: string): S3Error {
  return new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });
}

export function createNoSuchKey(key: string, headers: Record<string, string> = {}): S3Error {
  return new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }, headers);
}

export function createPreconditionFailed(condition: string): S3Error {
  return new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  });
}
