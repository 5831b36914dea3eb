'use strict';
/**
 * Derives every value serverless.yml needs from `variables.<stage>.yml`, so that file stays the
 * single source: the FERRY_CONFIG JSON, the deploy-role ARNs that sts:AssumeRole and the bucket
 * policy are limited to, the S3 notification filter, and the schedule events.
 *
 * The `ferry:` section is validated with ferry's own `parseConfig` (loaded through tsx), so a
 * configuration the Lambda would reject at cold start fails the package step instead, and the
 * role ARNs come from `listDeployRoleArns`: there is no second copy of the resolution rules here.
 *
 * Loaded by the framework as `${file(./serverless/ferry-values.cjs):<key>}`. Reads only local
 * files: packaging never needs AWS credentials or the network.
 */
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');

const SERVICE_DIR = path.resolve(__dirname, '..');

/**
 * `ledgerWriters:` in the variables file: who besides ferry's own roles may write ledger/ and
 * leases/ (the operator role the CLI runs as, a break-glass role). None when absent.
 */
function readLedgerWriters(value, file) {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${file}: ledgerWriters must be a list of IAM role or user ARNs`);
  return value.map((arn, i) => {
    if (typeof arn !== 'string' || !PRINCIPAL_ARN.test(arn)) {
      throw new Error(
        `${file}: ledgerWriters[${i}] must be the exact ARN of an IAM role or user (no wildcards), such as arn:aws:iam::111111111111:role/ferry-operator`,
      );
    }
    return arn;
  });
}

/** The runtime keeps its deployment ledger and its leases under these prefixes of the artifact bucket. */
const LEDGER_PREFIX = 'ledger/';
const LEASE_PREFIX = 'leases/';

/**
 * Lambda allows 4 KB for all environment variables of a function together (keys and values).
 * FERRY_CONFIG gets most of it; the rest is for the handful of other variables in serverless.yml.
 */
const ENVIRONMENT_BYTES_LIMIT = 4096;
const FERRY_CONFIG_BYTES_LIMIT = 3584;

/** STS role names and IAM role names: at most 64 characters. */
const ROLE_NAME_LIMIT = 64;

const VARIABLE_KEYS = ['toolingAccount', 'accounts', 'schedules', 'artifactBucket', 'lambda', 'ledgerWriters', 'ferry'];

/** An IAM role or user ARN (exact: the bucket policy compares with ArnNotEquals, no wildcards). */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

/** Reads and parses `variables.<stage>.yml` (YAML anchors allowed, CloudFormation tags are not). */
function readVariables(stage, serviceDir = SERVICE_DIR) {
  const file = path.join(serviceDir, `variables.${stage}.yml`);
  if (!fs.existsSync(file)) {
    throw new Error(`No variables file for stage '${stage}': expected ${path.relative(serviceDir, file)}`);
  }
  const vars = parse(fs.readFileSync(file, 'utf8'));
  if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) {
    throw new Error(`${path.basename(file)}: expected a mapping at the top level`);
  }
  const unknown = Object.keys(vars).filter((key) => !VARIABLE_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `${path.basename(file)}: unknown top-level keys ${unknown.join(', ')}; expected ${VARIABLE_KEYS.join(', ')}`,
    );
  }
  return vars;
}

/** ferry's own configuration module, compiled on the fly from TypeScript. */
async function loadConfigModule(serviceDir = SERVICE_DIR) {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(path.join(serviceDir, 'src/core/config.ts'), __filename);
}

function partitionOf(region) {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * Turns the `schedules:` list into `schedule` events for the promotion function. An entry names
 * one promotion rule (`app`, `from`, `to`, which must exist in the ferry section) or none of them,
 * which sends `{}`: every rule of every app.
 */
function buildPromotionEvents(schedules, config) {
  if (schedules === undefined || schedules === null) return [];
  if (!Array.isArray(schedules)) throw new Error('schedules: expected a list');
  return schedules.map((entry, i) => {
    const where = `schedules[${i}]`;
    const allowed = ['cron', 'app', 'from', 'to', 'enabled'];
    const unknown = Object.keys(entry ?? {}).filter((key) => !allowed.includes(key));
    if (unknown.length > 0)
      throw new Error(`${where}: unknown keys ${unknown.join(', ')}; expected ${allowed.join(', ')}`);
    if (typeof entry.cron !== 'string' || !/^(cron|rate)\(.+\)$/.test(entry.cron)) {
      throw new Error(`${where}.cron: expected an EventBridge expression such as cron(0 6 * * ? *)`);
    }
    const named = ['app', 'from', 'to'].filter((key) => entry[key] !== undefined);
    let input;
    let description;
    if (named.length === 0) {
      input = {};
      description = 'ferry: every promotion rule';
    } else if (named.length === 3) {
      const app = config.apps[entry.app];
      if (!app) throw new Error(`${where}.app: unknown app '${entry.app}'`);
      if (!app.promotions.some((rule) => rule.from === entry.from && rule.to === entry.to)) {
        throw new Error(`${where}: app '${entry.app}' has no promotion rule from '${entry.from}' to '${entry.to}'`);
      }
      input = { app: entry.app, from: entry.from, to: entry.to };
      description = `ferry: promote ${entry.app} from ${entry.from} to ${entry.to}`;
    } else {
      throw new Error(`${where}: give all of app, from and to (one rule) or none of them (every rule)`);
    }
    return {
      schedule: {
        rate: [entry.cron],
        enabled: entry.enabled ?? true,
        description,
        input,
      },
    };
  });
}

/** Every value serverless.yml reads from `custom.ferry`, derived from one parsed variables file. */
async function deriveValues(stage, { serviceDir = SERVICE_DIR, configModule } = {}) {
  const vars = readVariables(stage, serviceDir);
  const { parseConfig, listDeployRoleArns } = configModule ?? (await loadConfigModule(serviceDir));
  const config = parseConfig(vars.ferry, `variables.${stage}.yml (ferry)`);

  const ferryConfigJson = JSON.stringify(vars.ferry);
  const configBytes = Buffer.byteLength(ferryConfigJson, 'utf8');
  if (configBytes > FERRY_CONFIG_BYTES_LIMIT) {
    throw new Error(
      `variables.${stage}.yml: the ferry section is ${configBytes} bytes as JSON; Lambda allows ${ENVIRONMENT_BYTES_LIMIT} bytes ` +
        `for all environment variables and FERRY_CONFIG may use ${FERRY_CONFIG_BYTES_LIMIT}. Shorten it (role names default ` +
        'to deployRole, regions to region) or split the apps across two ferry stages.',
    );
  }

  if (!/^\d{12}$/.test(String(vars.toolingAccount ?? ''))) {
    throw new Error(
      `variables.${stage}.yml: toolingAccount must be the 12-digit id of the account ferry runs in, quoted`,
    );
  }

  const deployRoleArns = listDeployRoleArns(config);
  const partition = partitionOf(config.region);
  const bucketArn = `arn:${partition}:s3:::${config.artifactBucket}`;
  const targetAccounts = [...new Set(deployRoleArns.map((arn) => arn.split(':')[4]))].sort();
  // One role per function, each trusted by the deploy roles (templates/target-account-role.yml, FerryRoleArns).
  const roleNames = {
    artifactUploaded: `ferry-${stage}-${config.region}-upload`,
    scheduledPromotion: `ferry-${stage}-${config.region}-promote`,
    codepipelineAction: `ferry-${stage}-${config.region}-pipeline`,
    trafficTick: `ferry-${stage}-${config.region}-traffic`,
  };
  for (const name of Object.values(roleNames)) {
    if (name.length > ROLE_NAME_LIMIT) {
      throw new Error(`stage '${stage}' makes the role name ${name} longer than ${ROLE_NAME_LIMIT}`);
    }
  }
  const trustedRoleArns = Object.values(roleNames).map(
    (name) => `arn:${partition}:iam::${vars.toolingAccount}:role/${name}`,
  );

  return {
    stage,
    partition,
    region: config.region,
    toolingAccount: String(vars.toolingAccount),
    ferryConfigJson,
    deployRoleArns,
    targetAccounts,
    targetAccountRoots: targetAccounts.map((account) => `arn:${partition}:iam::${account}:root`),
    roleNames,
    trustedRoleArns,
    // The deploy-role template's FerryRoleArns parameter, as one comma-separated value.
    trustedRoleArnsParameter: trustedRoleArns.join(','),
    // Exempt from the bucket policy's Deny on writing ledger/ and leases/.
    ledgerWriterArns: [...trustedRoleArns, ...readLedgerWriters(vars.ledgerWriters, `variables.${stage}.yml`)],
    defaultEventBusArn: `arn:${partition}:events:${config.region}:${vars.toolingAccount}:event-bus/default`,
    // The upload function (functions.artifactUploaded.name): a stage beyond one invocation continues there.
    shardFunctionName: `ferry-${stage}-artifact-uploaded`,
    shardFunctionArn: `arn:${partition}:lambda:${config.region}:${vars.toolingAccount}:function:ferry-${stage}-artifact-uploaded`,
    artifactBucket: config.artifactBucket,
    artifactPrefix: config.artifactPrefix,
    bucketArn,
    artifactObjectsArn: `${bucketArn}/${config.artifactPrefix}*`,
    ledgerObjectsArn: `${bucketArn}/${LEDGER_PREFIX}*`,
    leaseObjectsArn: `${bucketArn}/${LEASE_PREFIX}*`,
    leasePrefix: LEASE_PREFIX,
    s3Rules: [...(config.artifactPrefix === '' ? [] : [{ prefix: config.artifactPrefix }]), { suffix: '.zip' }],
    promotionEvents: buildPromotionEvents(vars.schedules, config),
  };
}

const cache = new Map();

/** Entry point for the framework's `file` variable source: resolves the stage, derives once per stage. */
async function resolve({ resolveVariable }) {
  const stage = await resolveVariable('sls:stage');
  if (!cache.has(stage)) cache.set(stage, deriveValues(stage));
  return cache.get(stage);
}

module.exports = resolve;
module.exports.deriveValues = deriveValues;
module.exports.readVariables = readVariables;
module.exports.buildPromotionEvents = buildPromotionEvents;
module.exports.LEDGER_PREFIX = LEDGER_PREFIX;
module.exports.LEASE_PREFIX = LEASE_PREFIX;
module.exports.ENVIRONMENT_BYTES_LIMIT = ENVIRONMENT_BYTES_LIMIT;
