import { describe, expect, it } from 'vitest';
import { decodeAwsChunked, isAwsChunked } from '../src/aws-chunked.js';

describe('aws-chunked decoding', () => {
  it('decodes signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
    // Amazon S3 API Reference, "Signature Calculations for the Authorization Header: Transferring
    // Payload in Multiple Chunks": <hex-size>;chunk-signature=<sig>\r\n<data>\r\n … 0;chunk-signature=…\r\n\r\n
    const signature = 'a'.repeat(64);
    const raw = Buffer.from(
      `5;chunk-signature=${signature}\r\nhello\r\n6;chunk-signature=${signature}\r\n world\r\n0;chunk-signature=${signature}\r\n\r\n`,
    );
    expect(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' })).toBe(true);
    expect(decodeAwsChunked(raw)).toEqual({ body: Buffer.from('hello world'), trailers: {} });
  });

  it('reads trailing checksum headers and ignores the trailer signature', () => {
    const raw = Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\nx-amz-trailer-signature:abc\r\n\r\n');
    expect(decodeAwsChunked(raw)).toEqual({
      body: Buffer.from('abc'),
      trailers: { 'x-amz-checksum-crc32': 'NSRBwg==' },
    });
  });

  it('refuses a truncated body', () => {
    expect(() => decodeAwsChunked(Buffer.from('a\r\nabc'))).toThrow(/aws-chunked/);
  });
});
