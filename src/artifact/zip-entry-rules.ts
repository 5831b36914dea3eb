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

/** What an entry is, from the Unix mode in the high 16 bits of its external attributes. */
export const EntryType = {
  /** No Unix file type recorded (zips made on Windows, or by tools that do not set one). */
  Unspecified: 'unspecified',
  File: 'file',
  Directory: 'directory',
  Symlink: 'symlink',
  /** FIFO, character or block device, socket. */
  Special: 'special',
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * The entry's type. Read whatever system the zip says made it: some extractors (extract-zip,
 * for one) honour the Unix mode whatever the "made by" field says, so a link is a link to them.
 */
export function entryTypeOf(externalFileAttributes: number): EntryType {
  switch ((externalFileAttributes >>> 16) & S_IFMT) {
    case 0:
      return EntryType.Unspecified;
    case S_IFREG:
      return EntryType.File;
    case S_IFDIR:
      return EntryType.Directory;
    case S_IFLNK:
      return EntryType.Symlink;
    default:
      return EntryType.Special;
  }
}

/**
 * The key under which an extractor on a case-insensitive or normalising file system would store
 * `name`: `\` as `/`, no `.` or empty segments, no trailing `/`, NFC, lower case.
 */
export function nameKeyOf(name: string): string {
  return name
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/')
    .normalize('NFC')
    .toLowerCase();
}

/**
 * Remembers the names seen so far and reports the first entry that another extractor would write
 * over, or could not write at all: the same name twice (in any spelling that `nameKeyOf` folds
 * together), or a file that is also the parent directory of another entry.
 */
export interface NameRegistry {
  /** Adds an entry under every name it may be read as; returns why it clashes, or undefined. */
  add(shown: string, names: readonly string[], isDirectory: boolean): string | undefined;
}

export function createNameRegistry(): NameRegistry {
  const entries = new Map<string, { shown: string; isDirectory: boolean }>();
  /** Directories implied by the entries inside them → one such entry. */
  const parents = new Map<string, string>();
  return {
    add(shown, names, isDirectory) {
      const keys = [...new Set(names.map(nameKeyOf))];
      for (const key of keys) {
        const seen = entries.get(key);
        if (seen !== undefined) {
          return seen.shown === shown ? 'appears twice' : `names the same file as ${seen.shown}`;
        }
        const child = parents.get(key);
        if (child !== undefined && !isDirectory) return `is a file, but ${child} lies inside it`;
        const segments = key.split('/');
        for (let depth = 1; depth < segments.length; depth += 1) {
          const parent = segments.slice(0, depth).join('/');
          const file = entries.get(parent);
          if (file !== undefined && !file.isDirectory) return `lies inside ${file.shown}, which is a file`;
        }
      }
      for (const key of keys) {
        entries.set(key, { shown, isDirectory });
        const segments = key.split('/');
        for (let depth = 1; depth < segments.length; depth += 1) {
          const parent = segments.slice(0, depth).join('/');
          if (!parents.has(parent)) parents.set(parent, shown);
        }
      }
      return undefined;
    },
  };
}
