/** The engine's log, kept apart so every engine module can take one without importing the engine's entry. */
import { describeError, isFerryError } from '../core/errors.js';

/** What the engine logs through: the Powertools Logger fits; tests pass a recorder. */
export interface DeployLog {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** A failed target's log fields: the reason in words and ferry's error code; none when it did not fail. */
export function describeFailureFields(error: unknown): { reason?: string; errorCode?: string } {
  if (error === undefined) return {};
  return { reason: describeError(error), ...(isFerryError(error) ? { errorCode: error.code } : {}) };
}
