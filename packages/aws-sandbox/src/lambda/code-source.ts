/**
 * Where a deployment package comes from: inline ZipFile (base64, 50 MB) or an S3 object read
 * with the caller's permissions, checked as Lambda checks packages.
 */
import { AwsError } from '../contracts.js';
import type { OperationContext } from './context.js';
import { invalidParameter } from './errors.js';
import type { CodeBlob } from './function-store.js';
import { optionalString } from './routes.js';
import type { Json } from './shapes.js';
import { assertUploadSize, computeCodeSha256, inspectZip } from './zip.js';

export interface CodeSource {
  readonly zipFile: string | undefined;
  readonly s3: { bucket: string; key: string; versionId: string | undefined } | undefined;
}

export function readCodeSource(body: Json): CodeSource {
  const zipFile = optionalString(body, 'ZipFile');
  const bucket = optionalString(body, 'S3Bucket');
  const key = optionalString(body, 'S3Key');
  const versionId = optionalString(body, 'S3ObjectVersion');
  if (zipFile !== undefined && (bucket !== undefined || key !== undefined)) {
    throw invalidParameter('Please do not provide other FunctionCode properties when providing a ZipFile.');
  }
  if ((bucket === undefined) !== (key === undefined)) {
    throw invalidParameter('Please provide both S3Bucket and S3Key when specifying the code location in Amazon S3.');
  }
  if (zipFile === undefined && bucket === undefined) {
    throw invalidParameter('Please provide a source for function code.');
  }
  return { zipFile, s3: bucket !== undefined && key !== undefined ? { bucket, key, versionId } : undefined };
}

/** Loads and checks the package: ZipFile inline (50 MB), or from S3 as the caller (250 MB unzipped only). */
export async function loadCode(ctx: OperationContext, source: CodeSource, operation: string): Promise<CodeBlob> {
  let zip: Buffer;
  if (source.zipFile !== undefined) {
    zip = Buffer.from(source.zipFile, 'base64');
    assertUploadSize(zip, operation);
  } else {
    zip = await readFromS3(ctx, source.s3 as NonNullable<CodeSource['s3']>);
  }
  await inspectZip(zip);
  return { zip, sha256: computeCodeSha256(zip), size: zip.length };
}

/**
 * Lambda reads the object with the caller's permissions; S3's refusal comes back wrapped in an
 * InvalidParameterValueException that names the S3 error code, as AWS reports it.
 */
export async function readFromS3(ctx: OperationContext, s3: NonNullable<CodeSource['s3']>): Promise<Buffer> {
  try {
    return await ctx.state.deps.readS3Object(ctx.req.caller, {
      bucket: s3.bucket,
      key: s3.key,
      ...(s3.versionId === undefined ? {} : { versionId: s3.versionId }),
      region: ctx.req.region,
    });
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    throw invalidParameter(
      `Error occurred while GetObject. S3 Error Code: ${error.code}. S3 Error Message: ${error.message}`,
    );
  }
}
