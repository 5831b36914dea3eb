/**
 * What every handler does once per cold start: load and validate the configuration, build the
 * runtime (SDK clients, pacers, retries), and keep it for the container's later invocations.
 * Built on first use, so a configuration error surfaces in the first invocation with the field named.
 */
import { createRuntime, type Runtime } from './create-runtime.js';
import { loadConfig } from './load-config.js';

/** A getter that builds the container's runtime on its first call and returns the same one after. */
export function createColdStartRuntime(build: () => Runtime = () => createRuntime(loadConfig())): () => Runtime {
  let runtime: Runtime | undefined;
  return () => {
    runtime ??= build();
    return runtime;
  };
}
