/**
 * The bare minimum a deployer must send, with the SDK and nothing else: the role assumed once and
 * cached, UpdateFunctionCode, GetFunctionConfiguration polled until the update settles (on ferry's own poll
 * schedule, so both wait the same way), PublishVersion, UpdateAlias. No verification, no ledger,
 * no lease, no pacing, no pruning.
 */
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { computePollDelay } from '../../src/core/backoff.js';
import { DEFAULT_DEPLOY_TARGET_OPTIONS } from '../../src/engine/deploy-target.js';
import { sleep } from './context.js';

export interface BareDeployer {
  deploy(zip: Buffer): Promise<{ version: string; codeSha256: string; polls: number }>;
  destroy(): void;
}

export interface BareDeployInput {
  readonly endpoint: string;
  readonly region: string;
  readonly callerCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly roleArn: string;
  readonly externalId: string;
  readonly functionName: string;
  readonly alias: string;
}

/** At most this many polls (about 10 minutes on ferry's schedule), like any bounded wait. */
const MAX_POLLS = 600;

export function createBareDeployer(input: BareDeployInput): BareDeployer {
  const sts = new STSClient({ endpoint: input.endpoint, region: input.region, credentials: input.callerCredentials });
  let assumed: Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> | undefined;
  const credentials = () => {
    assumed ??= sts
      .send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: 'bare-sdk',
          ExternalId: input.externalId,
          DurationSeconds: 3600,
        }),
      )
      .then((out) => ({
        accessKeyId: out.Credentials?.AccessKeyId ?? '',
        secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
        sessionToken: out.Credentials?.SessionToken ?? '',
      }));
    return assumed;
  };
  const lambda = new LambdaClient({ endpoint: input.endpoint, region: input.region, credentials });
  const { pollFirstMs, pollMaxMs } = DEFAULT_DEPLOY_TARGET_OPTIONS;
  const FunctionName = input.functionName;

  return {
    async deploy(zip) {
      await lambda.send(new UpdateFunctionCodeCommand({ FunctionName, ZipFile: zip }));
      let polls = 0;
      for (; polls < MAX_POLLS; polls++) {
        const state = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName }));
        const status = state.LastUpdateStatus;
        if (status === 'Successful') break;
        if (status === 'Failed') throw new Error(`update of ${FunctionName} failed: ${state.LastUpdateStatusReason}`);
        await sleep(computePollDelay(polls, pollFirstMs, pollMaxMs));
      }
      if (polls >= MAX_POLLS) throw new Error(`update of ${FunctionName} did not settle after ${MAX_POLLS} polls`);
      const published = await lambda.send(new PublishVersionCommand({ FunctionName }));
      const version = published.Version ?? '';
      await lambda.send(new UpdateAliasCommand({ FunctionName, Name: input.alias, FunctionVersion: version }));
      return { version, codeSha256: published.CodeSha256 ?? '', polls: polls + 1 };
    },
    destroy() {
      sts.destroy();
      lambda.destroy();
    },
  };
}
