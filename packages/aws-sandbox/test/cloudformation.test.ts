import { describe, expect, it } from 'vitest';
import { evaluate, parseTemplate, resolveTemplateParameters } from '../src/index.js';

const TEMPLATE = parseTemplate(`
Parameters:
  FerryRoleArn:
    Type: String
    AllowedPattern: 'arn:aws:iam::\\d{12}:role/.+'
  AlarmNames:
    Type: String
    Default: none
    AllowedPattern: '^[^,*]{1,255}(,[^,*]{1,255})*$'
  Mode:
    Type: String
    Default: strict
    AllowedValues: [strict, loose]
Resources:
  Role:
    Properties:
      Alarms: !Join [',arn:aws:cloudwatch:*:*:alarm:', !Split [',', !Ref AlarmNames]]
      Trust: !Ref FerryRoleArn
`);

describe('sandbox CloudFormation parameters', () => {
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html:
  // Default is used when no value is given; AllowedPattern and AllowedValues constrain values.
  it('uses a parameter Default when no value is given, and the given value otherwise', () => {
    const ferry = 'arn:aws:iam::111111111111:role/ferry';
    const defaults = resolveTemplateParameters(TEMPLATE, { FerryRoleArn: ferry });
    expect(defaults).toEqual({ FerryRoleArn: ferry, AlarmNames: 'none', Mode: 'strict' });
    const resources = TEMPLATE.Resources as { Role: unknown };
    expect(evaluate(resources.Role, { parameters: defaults })).toEqual({
      Properties: { Alarms: 'none', Trust: ferry },
    });
    const named = resolveTemplateParameters(TEMPLATE, { FerryRoleArn: ferry, AlarmNames: 'a,b' });
    expect(evaluate(resources.Role, { parameters: named })).toMatchObject({
      Properties: { Alarms: 'a,arn:aws:cloudwatch:*:*:alarm:b' },
    });
  });

  it('refuses a missing value without Default, a value outside its pattern or values, and unknown parameters', () => {
    expect(() => resolveTemplateParameters(TEMPLATE, {})).toThrow('Parameters: [FerryRoleArn] must have values');
    expect(() => resolveTemplateParameters(TEMPLATE, { FerryRoleArn: 'not-an-arn' })).toThrow(/FerryRoleArn.*pattern/);
    const ferry = 'arn:aws:iam::111111111111:role/ferry';
    expect(() => resolveTemplateParameters(TEMPLATE, { FerryRoleArn: ferry, AlarmNames: 'a*' })).toThrow(/AlarmNames/);
    expect(() => resolveTemplateParameters(TEMPLATE, { FerryRoleArn: ferry, Mode: 'lax' })).toThrow(/Mode/);
    expect(() => resolveTemplateParameters(TEMPLATE, { FerryRoleArn: ferry, Nope: 'x' })).toThrow(/Nope/);
  });
});
