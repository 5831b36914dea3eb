/**
 * The operation table: one function per Lambda operation, each reading its parameters,
 * authorizing the caller on the resource AWS evaluates, applying the function store's transition
 * and rendering the response.
 */
import type { Operation } from './context.js';
import {
  createFunction,
  deleteFunction,
  getAccountSettings,
  getFunctionConfiguration,
  getFunctionOp,
  getPolicy,
  listFunctions,
  updateFunctionCode,
  updateFunctionConfiguration,
} from './function-operations.js';
import { invoke } from './invoke-operation.js';
import {
  createAliasOp,
  deleteAliasOp,
  getAliasOp,
  listAliases,
  listVersionsByFunction,
  publishVersionOp,
  updateAliasOp,
} from './version-operations.js';

export const operations: Readonly<Record<string, Operation>> = {
  CreateFunction: createFunction,
  ListFunctions: listFunctions,
  GetFunction: getFunctionOp,
  GetFunctionConfiguration: getFunctionConfiguration,
  UpdateFunctionCode: updateFunctionCode,
  UpdateFunctionConfiguration: updateFunctionConfiguration,
  DeleteFunction: deleteFunction,
  GetPolicy: getPolicy,
  PublishVersion: publishVersionOp,
  ListVersionsByFunction: listVersionsByFunction,
  CreateAlias: createAliasOp,
  GetAlias: getAliasOp,
  UpdateAlias: updateAliasOp,
  DeleteAlias: deleteAliasOp,
  ListAliases: listAliases,
  Invoke: invoke,
  GetAccountSettings: getAccountSettings,
};
