/**
 * Decoding of `aws-chunked` bodies. The SDK streams S3 uploads as
 * `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n … 0\r\n<trailer>:<value>\r\n\r\n`
 * (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER and the signed variants), with the
 * checksum in a trailing header.
 */
import { AwsError } from './contracts.js';

export interface DecodedChunkedBody {
  readonly body: Buffer;
  readonly trailers: Record<string, string>;
}

/** True when the request's body is aws-chunked encoded. */
export function isAwsChunked(headers: Readonly<Record<string, string>>): boolean {
  const encoding = headers['content-encoding'] ?? '';
  const payload = headers['x-amz-content-sha256'] ?? '';
  return encoding.split(',').some((part) => part.trim() === 'aws-chunked') || payload.startsWith('STREAMING-');
}

export function decodeAwsChunked(raw: Buffer): DecodedChunkedBody {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) throw malformed('chunk header without CRLF');
    const sizeText = raw.subarray(offset, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
    const size = Number.parseInt(sizeText, 16);
    if (!/^[0-9a-fA-F]+$/.test(sizeText) || Number.isNaN(size)) throw malformed(`bad chunk size "${sizeText}"`);
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size > raw.length) throw malformed('chunk longer than the body');
    parts.push(raw.subarray(offset, offset + size));
    offset += size;
    if (raw.subarray(offset, offset + 2).toString('latin1') !== '\r\n') throw malformed('chunk not followed by CRLF');
    offset += 2;
  }
  return { body: Buffer.concat(parts), trailers: parseTrailers(raw.subarray(offset).toString('latin1')) };
}

function parseTrailers(text: string): Record<string, string> {
  const trailers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const index = line.indexOf(':');
    if (index <= 0) continue;
    const name = line.slice(0, index).trim().toLowerCase();
    // The trailer signature authenticates the trailers; it is not a header the service uses.
    if (name === 'x-amz-trailer-signature') continue;
    trailers[name] = line.slice(index + 1).trim();
  }
  return trailers;
}

function malformed(detail: string): AwsError {
  return new AwsError('IncompleteBody', 400, `The request body is not valid aws-chunked encoding: ${detail}`);
}
