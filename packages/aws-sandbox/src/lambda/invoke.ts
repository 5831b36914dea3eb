/**
 * Runs a function's Node.js handler for Invoke: the zip is extracted once per CodeSha256 into a
 * temporary directory and the handler runs in a child process, so a handler that crashes, loops
 * or calls process.exit cannot take the sandbox down, and module caches never leak between
 * versions.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeBlob, FunctionConfig } from './function-store.js';
import { extractZip } from './zip.js';

export interface InvokeTarget {
  readonly functionName: string;
  readonly functionArn: string;
  readonly version: string;
  readonly region: string;
  readonly code: CodeBlob;
  readonly config: FunctionConfig;
}

export interface InvokeOutcome {
  readonly payload: Buffer;
  /** `Unhandled` when the handler threw or timed out (the X-Amz-Function-Error header). */
  readonly functionError: string | undefined;
  /** Combined stdout and stderr of the run. */
  readonly logs: string;
}

export interface HandlerRunner {
  run(target: InvokeTarget, event: unknown): Promise<InvokeOutcome>;
  /** Removes the extracted code and stops any handler still running. */
  close(): Promise<void>;
}

/**
 * The child's side. Kept as plain JavaScript text so it runs under bare `node`, whatever loader
 * (tsx, vitest) the sandbox itself runs under.
 */
const runnerSource = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const describe = (error) => ({
  errorType: (error && error.name) || 'Error',
  errorMessage: (error && error.message) || String(error),
  trace: String((error && error.stack) || '').split('\\n'),
});

process.once('message', async ({ dir, handler, event, context }) => {
  const reply = (message) => process.send(message, () => process.exit(0));
  try {
    const dot = handler.lastIndexOf('.');
    const modulePath = handler.slice(0, dot);
    const exportName = handler.slice(dot + 1);
    const file = ['.js', '.mjs', '.cjs'].map((ext) => join(dir, modulePath + ext)).find((f) => existsSync(f));
    if (!file) {
      throw Object.assign(new Error("Cannot find module '" + modulePath + "'"), { name: 'Runtime.ImportModuleError' });
    }
    const mod = await import(pathToFileURL(file).href);
    const fn = mod[exportName] ?? (mod.default && mod.default[exportName]);
    if (typeof fn !== 'function') {
      throw Object.assign(new Error(modulePath + '.' + exportName + ' is undefined or not exported'), { name: 'Runtime.HandlerNotFound' });
    }
    const deadline = Date.now() + context.timeoutMs;
    const ctx = { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), callbackWaitsForEmptyEventLoop: true };
    const result = fn.length >= 3
      ? await new Promise((resolve, reject) => fn(event, ctx, (err, value) => (err ? reject(err) : resolve(value))))
      : await fn(event, ctx);
    reply({ ok: true, result: result === undefined ? null : result });
  } catch (error) {
    reply({ ok: false, error: describe(error) });
  }
});
`;

type ChildReply = { ok: true; result: unknown } | { ok: false; error: Record<string, unknown> };

export function createHandlerRunner(): HandlerRunner {
  let root: Promise<string> | undefined;
  const extracted = new Map<string, Promise<string>>();
  const running = new Set<ChildProcess>();

  const workspace = (): Promise<string> => {
    root ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ferry-sandbox-lambda-'));
      await writeFile(join(dir, 'runner.mjs'), runnerSource);
      return dir;
    })();
    return root;
  };

  const codeDir = (code: CodeBlob): Promise<string> => {
    const key = Buffer.from(code.sha256, 'base64').toString('hex');
    let dir = extracted.get(key);
    if (!dir) {
      dir = workspace().then(async (base) => {
        const target = join(base, key);
        await extractZip(code.zip, target);
        return target;
      });
      extracted.set(key, dir);
    }
    return dir;
  };

  return {
    async run(target, event) {
      const base = await workspace();
      const dir = await codeDir(target.code);
      return runInChild(join(base, 'runner.mjs'), dir, target, event, running);
    },
    async close() {
      for (const child of running) child.kill('SIGKILL');
      running.clear();
      if (root) await rm(await root, { recursive: true, force: true });
      root = undefined;
      extracted.clear();
    },
  };
}

function runInChild(
  runnerPath: string,
  dir: string,
  target: InvokeTarget,
  event: unknown,
  running: Set<ChildProcess>,
): Promise<InvokeOutcome> {
  const requestId = randomUUID();
  const timeoutMs = target.config.timeout * 1000;
  const child = fork(runnerPath, [], {
    cwd: dir,
    env: handlerEnvironment(target, dir),
    // The sandbox may run under tsx or vitest: the handler gets a bare Node.js.
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  let logs = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    logs += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    logs += chunk.toString('utf8');
  });

  return new Promise<InvokeOutcome>((resolve) => {
    let settled = false;
    const finish = (payload: unknown, functionError: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running.delete(child);
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve({ payload: Buffer.from(JSON.stringify(payload)), functionError, logs });
    };
    const timer = setTimeout(() => {
      finish(
        {
          errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${target.config.timeout.toFixed(2)} seconds`,
        },
        'Unhandled',
      );
    }, timeoutMs);
    child.once('message', (message: ChildReply) => {
      if (message.ok) finish(message.result, undefined);
      else finish(message.error, 'Unhandled');
    });
    child.once('close', (code) => {
      finish(
        {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code ?? 'unknown'}`,
        },
        'Unhandled',
      );
    });
    child.once('error', (error) => {
      finish({ errorType: 'Runtime.ExitError', errorMessage: error.message }, 'Unhandled');
    });
    child.send({
      dir,
      handler: target.config.handler,
      event,
      context: {
        functionName: target.functionName,
        functionVersion: target.version,
        invokedFunctionArn: target.functionArn,
        memoryLimitInMB: String(target.config.memorySize),
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/${target.functionName}`,
        logStreamName: `sandbox/[${target.version}]${requestId.replaceAll('-', '')}`,
        timeoutMs,
      },
    });
  });
}

/**
 * The variables Lambda defines for a function, plus its own Environment. The sandbox's own
 * environment (credentials included) is deliberately not inherited.
 */
function handlerEnvironment(target: InvokeTarget, dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    ...target.config.environment,
    AWS_REGION: target.region,
    AWS_DEFAULT_REGION: target.region,
    AWS_LAMBDA_FUNCTION_NAME: target.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: target.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(target.config.memorySize),
    AWS_EXECUTION_ENV: `AWS_Lambda_${target.config.runtime}`,
    LAMBDA_TASK_ROOT: dir,
  };
}
