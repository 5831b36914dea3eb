/**
 * Configurations for integration tests. Each test starts its own world
 * (fresh sandbox state) and stops it afterwards.
 */

export const TWO_ACCOUNTS = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [
          { account: '222222222222', function: 'orders-api' },
          { account: '333333333333', function: 'orders-api' },
        ],
      },
    },
  },
};

/** One account per stage, dev → prod: orders-api in 222222222222 (dev) and 444444444444 (prod). */
export const DEV_AND_PROD = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: '222222222222', function: 'orders-api' }],
        prod: [{ account: '444444444444', function: 'orders-api' }],
      },
      promotions: [{ from: 'dev', to: 'prod' }],
    },
  },
};

export { type LogLine, recordLog } from './record-log.js';
