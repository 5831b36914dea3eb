import type { LambdaPort } from '../aws/lambda.js';
import type { AccountPacers } from './pacer.js';

/** Wraps a LambdaPort so each control-plane call first takes a token from its account's budget. */
export function paceLambdaPort(port: LambdaPort, pacers: AccountPacers): LambdaPort {
  const control = async <T>(fn: () => Promise<T>): Promise<T> => {
    await pacers.control.take();
    return fn();
  };
  return {
    getFunctionConfiguration: (name, qualifier) => control(() => port.getFunctionConfiguration(name, qualifier)),
    getAlias: (name, alias) => control(() => port.getAlias(name, alias)),
    listVersions: (name) => control(() => port.listVersions(name)),
    updateFunctionCode: (input) => control(() => port.updateFunctionCode(input)),
    publishVersion: (input) => control(() => port.publishVersion(input)),
    createAlias: (input) => control(() => port.createAlias(input)),
    updateAlias: (input) => control(() => port.updateAlias(input)),
    listAliases: (name) => control(() => port.listAliases(name)),
    deleteVersion: (name, version) => control(() => port.deleteVersion(name, version)),
    // Invoke is a data-plane call with its own concurrency quota, not the control-plane budget.
    invoke: (input) => port.invoke(input),
  };
}
