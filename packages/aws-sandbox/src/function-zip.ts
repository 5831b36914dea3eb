import yazl from 'yazl';

/**
 * A tiny Node.js function package whose handler answers with its label, so an Invoke shows
 * which build serves. Built in memory with a fixed timestamp: the same label gives the same bytes.
 */
export async function makeFunctionZip(label: string, padding = 0): Promise<Buffer> {
  return buildZip(`export const handler = async () => ({ build: ${JSON.stringify(label)} });\n`, padding);
}

/**
 * A function package whose handler always throws `Error("<label> fails")`: Invoke answers 200 with
 * X-Amz-Function-Error Unhandled and Lambda's Errors metric counts 1 per call (a bad canary).
 */
export function makeFailingFunctionZip(label: string): Promise<Buffer> {
  return buildZip(`export const handler = async () => { throw new Error(${JSON.stringify(`${label} fails`)}); };\n`, 0);
}

async function buildZip(source: string, padding: number): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(source), 'index.mjs', { mtime: new Date(Date.UTC(2026, 0, 1)) });
  if (padding > 0) {
    // Incompressible filler, for artifacts of a given size (the S3-reference path above 50 MB).
    const { randomBytes } = await import('node:crypto');
    zip.addBuffer(randomBytes(padding), 'assets/filler.bin', {
      mtime: new Date(Date.UTC(2026, 0, 1)),
      compress: false,
    });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
