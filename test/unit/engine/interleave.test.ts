import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Target } from '../../../src/core/config.js';
import { interleaveByAccount } from '../../../src/engine/deploy-stage.js';

const target = (accountId: string, functionName: string): Target => ({
  id: `${accountId}/eu-west-1/${functionName}:live`,
  stage: 'dev',
  accountId,
  region: 'eu-west-1',
  functionName,
  alias: 'live',
  roleArn: `arn:aws:iam::${accountId}:role/ferry-deploy`,
});

describe('interleaveByAccount', () => {
  it('takes one target from each account in turn', () => {
    const a = ['1', '2', '3'].map((n) => target('111111111111', `a${n}`));
    const b = ['1', '2'].map((n) => target('222222222222', `b${n}`));
    expect(interleaveByAccount([...a, ...b]).map((t) => t.functionName)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
  });

  it('keeps every target exactly once and each account in its own order', () => {
    const arb = fc.array(fc.tuple(fc.constantFrom('111111111111', '222222222222', '333333333333'), fc.nat(1000)), {
      maxLength: 40,
    });
    fc.assert(
      fc.property(arb, (pairs) => {
        const targets = pairs.map(([account, n], i) => target(account, `f${n}-${i}`));
        const order = interleaveByAccount(targets);
        expect([...order].sort((x, y) => x.id.localeCompare(y.id))).toEqual(
          [...targets].sort((x, y) => x.id.localeCompare(y.id)),
        );
        for (const account of ['111111111111', '222222222222', '333333333333']) {
          expect(order.filter((t) => t.accountId === account)).toEqual(targets.filter((t) => t.accountId === account));
        }
      }),
    );
  });
});
