import yazl from 'yazl';

/**
 * A tiny Node.js function package whose handler answers with its label, so an Invoke shows
 * which build serves. Built in memory with a fixed timestamp: the same label gives the same bytes.
 */
export async function makeFunctionZip(label: string, padding = 0): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const source = `export const handler = async () => ({ build: ${JSON.stringify(label)} });\n`;
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
