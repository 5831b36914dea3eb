/**
 * The ferry configurations the benchmark's worlds are built from. Functions that only the
 * hand-made sequences deploy (AWS CLI, bare SDK calls) are targets of an app ferry never deploys,
 * so the world gives them the same deploy role and permissions.
 */

export const REGION = 'eu-west-1';
export const BUCKET = 'ferry-bench-111111111111';
export const EXTERNAL_ID = 'ferry-bench-external-id';
export const ALIAS = 'live';
export const STAGE = 'dev';
/** The account of the single-target comparisons. */
export const SINGLE_ACCOUNT = '222222222222';

export const Fn = {
  cliFerry: 'cli-ferry',
  cliAwsCli: 'cli-awscli',
  engineFerry: 'engine-ferry',
  engineUnpaced: 'engine-unpaced',
  engineBare: 'engine-bare',
  memory: 'memory',
} as const;

export const App = {
  cli: 'cli',
  engine: 'engine',
  engineUnpaced: 'engine-unpaced',
  counted: 'counted',
  handmade: 'handmade',
  fleet: 'fleet',
  memory: 'memory',
} as const;

const base = {
  artifactBucket: BUCKET,
  region: REGION,
  externalId: EXTERNAL_ID,
  stages: [{ name: STAGE, acceptsUploads: true }],
};

const one = (fn: string) => [{ account: SINGLE_ACCOUNT, function: fn }];

/** Sections 1 and 2: one account, one function per contender, plus a 10-function app for per-target counts. */
export function buildSingleConfig(countedTargets: number) {
  return {
    ...base,
    apps: {
      [App.cli]: { targets: { [STAGE]: one(Fn.cliFerry) } },
      [App.engine]: { targets: { [STAGE]: one(Fn.engineFerry) } },
      [App.engineUnpaced]: { targets: { [STAGE]: one(Fn.engineUnpaced) } },
      [App.handmade]: {
        targets: { [STAGE]: [...one(Fn.cliAwsCli), ...one(Fn.engineBare)] },
      },
      [App.counted]: {
        targets: {
          [STAGE]: Array.from({ length: countedTargets }, (_, i) => ({
            account: SINGLE_ACCOUNT,
            function: `counted-${i + 1}`,
          })),
        },
      },
    },
  };
}

/** Section 3: `accounts` target accounts with `perAccount` functions each, listed account by account. */
export function buildFleetConfig(accounts: number, perAccount: number, concurrency?: number) {
  const targets = Array.from({ length: accounts }, (_, a) =>
    Array.from({ length: perAccount }, (_, f) => ({
      account: fleetAccount(a),
      function: `fleet-${f + 1}`,
    })),
  ).flat();
  return {
    ...base,
    ...(concurrency === undefined ? {} : { concurrency }),
    apps: { [App.fleet]: { targets: { [STAGE]: targets } } },
  };
}

export function fleetAccount(index: number): string {
  return `4000000000${String(index + 1).padStart(2, '0')}`;
}

/** Section 5: one function; its stage accepts uploads, as ferry's upload handler needs. */
export function buildMemoryConfig() {
  return { ...base, apps: { [App.memory]: { targets: { [STAGE]: one(Fn.memory) } } } };
}

export function artifactKey(app: string, build: string): string {
  return `artifacts/${app}/${build}.zip`;
}

/** Build ids that sort in run order, as ferry only moves forward. */
export function buildId(n: number): string {
  return String(n).padStart(6, '0');
}
