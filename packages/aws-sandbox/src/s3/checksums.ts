/**
 * S3's additional checksums (S3 User Guide, "Checking object integrity"): CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256, each sent base64-encoded in `x-amz-checksum-<algorithm>` as a header or
 * an aws-chunked trailer. A value that does not match the body is refused with BadDigest.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AwsError } from '../contracts.js';

export const ChecksumAlgorithm = {
  CRC32: 'CRC32',
  CRC32C: 'CRC32C',
  CRC64NVME: 'CRC64NVME',
  SHA1: 'SHA1',
  SHA256: 'SHA256',
} as const;
export type ChecksumAlgorithm = (typeof ChecksumAlgorithm)[keyof typeof ChecksumAlgorithm];

const ALGORITHMS = Object.values(ChecksumAlgorithm);

/** Byte length of each digest, to tell a malformed value (InvalidRequest) from a wrong one (BadDigest). */
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export function headerNameOf(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function computeChecksum(algorithm: ChecksumAlgorithm, body: Buffer): string {
  switch (algorithm) {
    case 'CRC32':
      return encodeUint32(crc32(body));
    case 'CRC32C':
      return encodeUint32(computeCrc32c(body));
    case 'CRC64NVME':
      return encodeUint64(computeCrc64Nvme(body));
    case 'SHA1':
      return createHash('sha1').update(body).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(body).digest('base64');
  }
}

export interface DeclaredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly value: string;
}

/**
 * The checksum a PutObject declares, from a header or (aws-chunked) a trailer, verified against
 * the body. S3 accepts one algorithm per request.
 */
export function verifyDeclaredChecksum(
  headers: Readonly<Record<string, string>>,
  trailers: Readonly<Record<string, string>>,
  body: Buffer,
): DeclaredChecksum | undefined {
  const declaredTrailer = headers['x-amz-trailer']?.trim().toLowerCase();
  if (declaredTrailer?.startsWith('x-amz-checksum-') && trailers[declaredTrailer] === undefined) {
    throw new AwsError(
      'MalformedTrailerError',
      400,
      'The request contained trailing data that was not well-formed or did not conform to our published schema.',
    );
  }
  const found: Array<DeclaredChecksum & { source: 'header' | 'trailing header' }> = [];
  for (const algorithm of ALGORITHMS) {
    const name = headerNameOf(algorithm);
    if (headers[name] !== undefined) found.push({ algorithm, value: headers[name] as string, source: 'header' });
    if (trailers[name] !== undefined)
      found.push({ algorithm, value: trailers[name] as string, source: 'trailing header' });
  }
  if (found.length === 0) return undefined;
  if (found.length > 1)
    throw new AwsError(
      'InvalidRequest',
      400,
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  const declared = found[0] as (typeof found)[number];
  if (Buffer.from(declared.value, 'base64').length !== DIGEST_BYTES[declared.algorithm]) {
    throw new AwsError(
      'InvalidRequest',
      400,
      `Value for ${headerNameOf(declared.algorithm)} ${declared.source} is invalid.`,
    );
  }
  if (computeChecksum(declared.algorithm, body) !== declared.value) {
    throw new AwsError(
      'BadDigest',
      400,
      `The ${declared.algorithm} you specified did not match the calculated checksum.`,
    );
  }
  return { algorithm: declared.algorithm, value: declared.value };
}

function encodeUint32(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

function encodeUint64(value: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return bytes.toString('base64');
}

const CRC32C_TABLE = buildCrc32Table(0x82f63b78);

function buildCrc32Table(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function computeCrc32c(body: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of body) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC64_MASK = 0xffffffffffffffffn;
let crc64Table: BigUint64Array | undefined;

/** CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5); rarely used, so the table is built lazily. */
function computeCrc64Nvme(body: Buffer): bigint {
  crc64Table ??= buildCrc64Table(0x9a6c9329ac4bc9b5n);
  let crc = CRC64_MASK;
  for (const byte of body) crc = (crc64Table[Number((crc ^ BigInt(byte)) & 0xffn)] as bigint) ^ (crc >> 8n);
  return crc ^ CRC64_MASK;
}

function buildCrc64Table(polynomial: bigint): BigUint64Array {
  const table = new BigUint64Array(256);
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? polynomial ^ (c >> 1n) : c >> 1n;
    table[n] = c;
  }
  return table;
}
