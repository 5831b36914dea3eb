/**
 * AssumeRole's parameter constraints as the STS API Reference states them, reported the way AWS
 * reports them: "N validation error(s) detected: Value '…' at '…' failed to satisfy constraint: …".
 */
import { AwsError } from '../contracts.js';

export interface AssumeRoleParams {
  readonly roleArn: string | undefined;
  readonly roleSessionName: string | undefined;
  readonly durationSeconds: string | undefined;
  readonly externalId: string | undefined;
}

export function validateAssumeRoleParams(params: AssumeRoleParams): void {
  const problems = [
    ...checkString('roleArn', params.roleArn, { min: 20, max: 2048, required: true }),
    ...checkString('roleSessionName', params.roleSessionName, {
      min: 2,
      max: 64,
      required: true,
      pattern: /^[\w+=,.@-]*$/,
      patternText: '[\\w+=,.@-]*',
    }),
    ...checkString('externalId', params.externalId, {
      min: 2,
      max: 1224,
      required: false,
      pattern: /^[\w+=,.@:/-]*$/,
      patternText: '[\\w+=,.@:\\/-]*',
    }),
    ...checkDuration(params.durationSeconds),
  ];
  if (problems.length === 0) return;
  const label = problems.length === 1 ? '1 validation error detected' : `${problems.length} validation errors detected`;
  throw new AwsError('ValidationError', 400, `${label}: ${problems.join('; ')}`);
}

interface StringRule {
  min: number;
  max: number;
  required: boolean;
  pattern?: RegExp;
  patternText?: string;
}

function checkString(name: string, value: string | undefined, rule: StringRule): string[] {
  if (value === undefined)
    return rule.required ? [`Value null at '${name}' failed to satisfy constraint: Member must not be null`] : [];
  const problems: string[] = [];
  const prefix = `Value '${value}' at '${name}' failed to satisfy constraint:`;
  if (value.length < rule.min) problems.push(`${prefix} Member must have length greater than or equal to ${rule.min}`);
  if (value.length > rule.max) problems.push(`${prefix} Member must have length less than or equal to ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(value)) {
    problems.push(`${prefix} Member must satisfy regular expression pattern: ${rule.patternText}`);
  }
  return problems;
}

function checkDuration(value: string | undefined): string[] {
  if (value === undefined) return [];
  const seconds = Number(value);
  const prefix = `Value '${value}' at 'durationSeconds' failed to satisfy constraint:`;
  if (!Number.isInteger(seconds)) return [`${prefix} Member must be an integer`];
  if (seconds < 900) return [`${prefix} Member must have value greater than or equal to 900`];
  if (seconds > 43200) return [`${prefix} Member must have value less than or equal to 43200`];
  return [];
}
