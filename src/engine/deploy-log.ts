/** The engine's log, kept apart so every engine module can take one without importing the engine's entry. */

/** What the engine logs through: the Powertools Logger fits; tests pass a recorder. */
export interface DeployLog {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}
