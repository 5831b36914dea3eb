/**
 * `ferry config check [--config F]`: validates the configuration (every problem named by field)
 * and prints what it resolves to: stages, every app's targets with their account, region,
 * function, alias and deploy role, and the promotion rules. Reads no AWS.
 */
import type { FerryConfig, PromotionRule } from '../core/config.js';
import type { CommandContext, CommonOptions } from './context.js';
import { describeTarget } from './deploy.js';
import { ExitCode, renderTable, writeJson } from './output.js';

export type ConfigCheckOptions = CommonOptions;

export async function runConfigCheck(ctx: CommandContext, options: ConfigCheckOptions): Promise<ExitCode> {
  const { config, source } = ctx.loadConfig(options);
  if (options.json) writeJson(ctx.io, describeConfig(config, source));
  else ctx.io.writeOut(renderConfig(config, source));
  return ExitCode.Ok;
}

/** The resolved configuration as the CLI shows it: role ARNs yes, ExternalIds only as present or not. */
export function describeConfig(config: FerryConfig, source: string) {
  return {
    valid: true,
    source,
    artifactBucket: config.artifactBucket,
    artifactPrefix: config.artifactPrefix,
    region: config.region,
    stages: config.stages.map((s) => ({ name: s.name, acceptsUploads: s.acceptsUploads })),
    apps: Object.values(config.apps).map((app) => ({
      name: app.name,
      keepVersions: app.keepVersions,
      targets: config.stages.flatMap((stage) =>
        (app.targets[stage.name] ?? []).map((t) => ({
          stage: stage.name,
          ...describeTarget(t),
          roleArn: t.roleArn,
          externalId: t.externalId !== undefined,
        })),
      ),
      promotions: app.promotions,
    })),
  };
}

function renderConfig(config: FerryConfig, source: string): string {
  const described = describeConfig(config, source);
  const stages = config.stages.map((s) => (s.acceptsUploads ? `${s.name} (accepts uploads)` : s.name)).join(' → ');
  const targets = renderTable(
    ['APP', 'STAGE', 'ACCOUNT', 'REGION', 'FUNCTION', 'ALIAS', 'ROLE', 'EXTERNAL ID'],
    described.apps.flatMap((app) =>
      app.targets.map((t) => [
        app.name,
        t.stage,
        t.account,
        t.region,
        t.function,
        t.alias,
        t.roleArn,
        t.externalId ? 'set' : 'none',
      ]),
    ),
  );
  const rules = described.apps.flatMap((app) => app.promotions.map((rule) => [app.name, ...describeRule(rule)]));
  const promotions =
    rules.length > 0
      ? `\n${renderTable(['APP', 'PROMOTION', 'MIN SOAK', 'WINDOW (UTC)', 'NO FAILURES'], rules)}`
      : '\nno promotion rules\n';
  return (
    `configuration ${source}: valid\n` +
    `artifacts  s3://${config.artifactBucket}/${config.artifactPrefix}  (${config.region})\n` +
    `stages     ${stages}\n\n${targets}${promotions}`
  );
}

function describeRule(rule: PromotionRule): string[] {
  const days = rule.weekdays ? rule.weekdays.join(',') : 'any day';
  const hours = rule.hoursUtc ? ` ${rule.hoursUtc.from}:00–${rule.hoursUtc.to}:00` : '';
  return [
    `${rule.from} → ${rule.to}`,
    `${rule.minSoakMinutes}m`,
    `${days}${hours}`,
    rule.requireNoFailures ? 'required' : 'no',
  ];
}
