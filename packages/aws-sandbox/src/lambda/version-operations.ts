import { type AliasInput, createAlias, deleteAlias, getAlias, updateAlias } from './aliases.js';
import { refArn } from './arns.js';
import { authorize, lookup, now, type Operation, unqualifiedRef } from './context.js';
import { publishVersion, sortedVersions } from './function-store.js';
import { paginate } from './pagination.js';
import {
  emptyResponse,
  jsonResponse,
  optionalObject,
  optionalString,
  queryInteger,
  queryString,
  readJsonBody,
  requiredString,
} from './routes.js';
import { type Json, renderAlias, renderLatest, renderVersion } from './shapes.js';

export const publishVersionOp: Operation = async (ctx) => {
  const body = readJsonBody(ctx.req);
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'PublishVersion', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const version = publishVersion(
    ctx.state.store,
    record,
    {
      codeSha256: optionalString(body, 'CodeSha256'),
      revisionId: optionalString(body, 'RevisionId'),
      description: optionalString(body, 'Description'),
    },
    now(ctx),
  );
  return jsonResponse(201, renderVersion(record, version));
};

export const listVersionsByFunction: Operation = async (ctx) => {
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'ListVersionsByFunction', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const items = [renderLatest(record), ...sortedVersions(record).map((version) => renderVersion(record, version))];
  const { page, nextMarker } = paginate(
    items,
    queryString(ctx.req.query, 'Marker'),
    queryInteger(ctx.req.query, 'MaxItems'),
  );
  return jsonResponse(200, { Versions: page, ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }) });
};

function readAliasInput(body: Json): AliasInput {
  const routingConfig = optionalObject(body, 'RoutingConfig');
  const weights =
    routingConfig === undefined ? undefined : (optionalObject(routingConfig, 'AdditionalVersionWeights') ?? {});
  return {
    functionVersion: optionalString(body, 'FunctionVersion'),
    description: optionalString(body, 'Description'),
    routing: weights as Record<string, number> | undefined,
    revisionId: optionalString(body, 'RevisionId'),
  };
}

export const createAliasOp: Operation = async (ctx) => {
  const body = readJsonBody(ctx.req);
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'CreateAlias', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const alias = createAlias(record, requiredString(body, 'Name'), readAliasInput(body));
  return jsonResponse(201, renderAlias(record, alias));
};

export const getAliasOp: Operation = async (ctx) => {
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'GetAlias', refArn(ref), ref);
  const record = lookup(ctx, ref);
  return jsonResponse(200, renderAlias(record, getAlias(record, ctx.params.Name ?? '')));
};

export const updateAliasOp: Operation = async (ctx) => {
  const body = readJsonBody(ctx.req);
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'UpdateAlias', refArn(ref), ref);
  const record = lookup(ctx, ref);
  return jsonResponse(200, renderAlias(record, updateAlias(record, ctx.params.Name ?? '', readAliasInput(body))));
};

export const deleteAliasOp: Operation = async (ctx) => {
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'DeleteAlias', refArn(ref), ref);
  deleteAlias(lookup(ctx, ref), ctx.params.Name ?? '');
  return emptyResponse(204);
};

export const listAliases: Operation = async (ctx) => {
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'ListAliases', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const version = queryString(ctx.req.query, 'FunctionVersion');
  const aliases = [...record.aliases.values()]
    .filter((alias) => version === undefined || alias.functionVersion === version || version in alias.routing)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((alias) => renderAlias(record, alias));
  const { page, nextMarker } = paginate(
    aliases,
    queryString(ctx.req.query, 'Marker'),
    queryInteger(ctx.req.query, 'MaxItems'),
  );
  return jsonResponse(200, { Aliases: page, ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }) });
};
