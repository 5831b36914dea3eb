/**
 * Function name formats Lambda accepts (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html,
 * "Name formats": function name, name with qualifier, function ARN, partial ARN).
 */
import { describe, expect, it } from 'vitest';
import { AwsError } from '../src/contracts.js';
import { parseFunctionName } from '../src/lambda/arns.js';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';

describe('parseFunctionName', () => {
  it.each([
    ['my-function', undefined, { accountId: ACCOUNT, name: 'my-function', qualifier: undefined }],
    ['my-function:live', undefined, { accountId: ACCOUNT, name: 'my-function', qualifier: 'live' }],
    ['my-function', '3', { accountId: ACCOUNT, name: 'my-function', qualifier: '3' }],
    [
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:my-function`,
      undefined,
      { accountId: ACCOUNT, name: 'my-function', qualifier: undefined },
    ],
    [
      `arn:aws:lambda:${REGION}:222222222222:function:my-function:$LATEST`,
      undefined,
      { accountId: '222222222222', name: 'my-function', qualifier: '$LATEST' },
    ],
    [`${ACCOUNT}:function:my-function:7`, '7', { accountId: ACCOUNT, name: 'my-function', qualifier: '7' }],
  ])('reads %s (Qualifier %s)', (raw, qualifier, expected) => {
    expect(parseFunctionName(raw, ACCOUNT, REGION, qualifier)).toEqual({ region: REGION, ...expected });
  });

  it.each([
    ['my-function:live', '3', 'InvalidParameterValueException'],
    ['bad name!', undefined, 'ValidationException'],
    [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:my-function`, undefined, 'ResourceNotFoundException'],
  ])('refuses %s (Qualifier %s) with %s', (raw, qualifier, code) => {
    const attempt = (): unknown => parseFunctionName(raw, ACCOUNT, REGION, qualifier);
    expect(attempt).toThrow(AwsError);
    try {
      attempt();
    } catch (error) {
      expect((error as AwsError).code).toBe(code);
    }
  });
});
