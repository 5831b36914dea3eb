/**
 * Rules for the entry names a function zip may contain. Lambda unzips the package into the
 * function's directory; a name that is absolute or climbs out with `..` would land elsewhere (or
 * be rejected by the unzip tool at deploy time, far from the upload that caused it).
 *
 * Pure, so the rules can be property-tested on their own.
 */

/** Both separators count: zips built on Windows may use `\`, and some unzip tools honour it. */
const SEPARATOR = /[\\/]/;
const DRIVE_LETTER = /^[a-zA-Z]:/;

/** Why an entry name is unsafe, or undefined when it is a plain relative path. */
export function checkEntryPath(name: string): string | undefined {
  if (name.length === 0) return 'has an empty name';
  if (name.includes('\0')) return 'contains a NUL character';
  // A leading separator covers `/etc/x`, `\x` and UNC names such as `\\server\share`.
  if (name.startsWith('/') || name.startsWith('\\')) return 'is an absolute path';
  // `C:\x` is absolute; `C:x` is relative to the drive's current directory: neither is ours.
  if (DRIVE_LETTER.test(name)) return 'starts with a Windows drive letter';
  if (name.split(SEPARATOR).includes('..')) return "contains a '..' segment that climbs out of the function directory";
  return undefined;
}
