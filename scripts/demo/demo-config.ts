/**
 * The demo's ferry configuration: one app, a dev account that takes uploads, a staging account
 * reached by promotion. Staging ships as a canary (25 % for two minutes, then everything), judged
 * by ferry's built-in analysis of Lambda's own metrics; a small minimum sample keeps the demo short.
 */
export const DEMO_CONFIG = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-demo-external-id',
  keepVersions: 5,
  stages: [{ name: 'dev', acceptsUploads: true }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [
          { account: '222222222222', function: 'orders-api' },
          { account: '222222222222', function: 'orders-worker' },
        ],
        staging: [{ account: '333333333333', function: 'orders-api' }],
      },
      promotions: [{ from: 'dev', to: 'staging', minSoakMinutes: 0 }],
      traffic: {
        staging: {
          policy: { canary: { percent: 25, minutes: 2 } },
          analysis: { minInvocations: 3, maxErrorRateIncrease: 0.05 },
        },
      },
    },
  },
};
