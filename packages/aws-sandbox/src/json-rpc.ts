/**
 * What the AWS JSON 1.0 and 1.1 services share (`X-Amz-Target: <prefix>.<Operation>`, a JSON
 * object as body): operation naming, body parsing and Smithy-style constraint messages.
 */
import { AwsError, type SandboxRequest, type SandboxResponse } from './contracts.js';
import { generateRequestId } from './ids.js';

export type JsonObject = Record<string, unknown>;

/** The operation an `X-Amz-Target` header names, or 'Unknown'. */
export function readTargetOperation(req: SandboxRequest, prefix: string): string {
  const target = req.headers['x-amz-target'] ?? '';
  return target.startsWith(`${prefix}.`) ? target.slice(prefix.length + 1) : 'Unknown';
}

export function parseJsonObject(req: SandboxRequest): JsonObject {
  try {
    const parsed: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as JsonObject;
  } catch {
    // answered below
  }
  throw new AwsError('SerializationException', 400, 'Request body is not a JSON object');
}

export function answerJson(
  req: SandboxRequest,
  status: number,
  body: unknown,
  contentType: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  return {
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': req.requestId ?? generateRequestId(), ...headers },
    body: JSON.stringify(body),
  };
}

/** Collects constraint violations and throws them as one ValidationException, as Smithy services word them. */
export class Constraints {
  private readonly problems: string[] = [];

  constructor(private readonly code = 'ValidationException') {}

  add(problem: string): void {
    this.problems.push(problem);
  }

  required(path: string, value: unknown): boolean {
    if (value !== undefined && value !== null) return true;
    this.add(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
    return false;
  }

  length(path: string, value: unknown, min: number, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      this.add(`Value at '${path}' failed to satisfy constraint: Member must be a string`);
      return;
    }
    if (value.length < min)
      this.add(
        `Value '${value}' at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
      );
    if (value.length > max)
      this.add(`Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }

  oneOf(path: string, value: unknown, allowed: readonly string[]): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      this.add(
        `Value '${String(value)}' at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
      );
    }
  }

  range(path: string, value: unknown, min: number, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.add(
        `Value '${String(value)}' at '${path}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
  }

  count(path: string, value: unknown, min: number, max: number): void {
    if (value === undefined || value === null) return;
    if (!Array.isArray(value)) {
      this.add(`Value at '${path}' failed to satisfy constraint: Member must be a list`);
      return;
    }
    if (value.length < min)
      this.add(
        `Value at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
      );
    if (value.length > max)
      this.add(`Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const label =
      this.problems.length === 1 ? '1 validation error detected' : `${this.problems.length} validation errors detected`;
    throw new AwsError(this.code, 400, `${label}: ${this.problems.join('; ')}`);
  }
}
