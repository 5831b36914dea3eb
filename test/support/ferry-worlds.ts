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

export { type LogLine, recordLog } from './record-log.js';
