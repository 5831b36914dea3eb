import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkEntryPath,
  createNameRegistry,
  EntryType,
  entryTypeOf,
  nameKeyOf,
} from '../../../src/artifact/zip-entry-rules.js';

const safeSegment = fc.stringMatching(/^[A-Za-z0-9_.@+-]{1,12}$/).filter((s) => s !== '..');
const separator = fc.constantFrom('/', '\\');

describe('checkEntryPath', () => {
  it.each([
    ['index.js'],
    ['node_modules/pkg/index.js'],
    ['dir/'],
    ['./handler.mjs'],
    ['a/.../b'],
    ['..hidden/x'],
    ['x..'],
  ])('accepts the relative path %j', (name) => {
    expect(checkEntryPath(name)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['\\Windows\\x', 'absolute'],
    ['\\\\server\\share\\x', 'absolute'],
    ['C:\\x', 'drive letter'],
    ['c:x', 'drive letter'],
    ['..', "'..'"],
    ['../x.js', "'..'"],
    ['a/../../x.js', "'..'"],
    ['a\\..\\..\\x.js', "'..'"],
    ['a/..', "'..'"],
    ['a\0b', 'NUL'],
  ])('rejects %j with a reason', (name, reason) => {
    expect(checkEntryPath(name)).toContain(reason);
  });

  it('accepts any path built from safe segments with either separator', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(safeSegment, separator), { minLength: 1, maxLength: 8 }), (parts) => {
        const name = parts
          .map(([segment, sep]) => segment + sep)
          .join('')
          .slice(0, -1);
        expect(checkEntryPath(name)).toBeUndefined();
      }),
    );
  });

  it('rejects any path with a .. segment, whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), separator, (before, after, sep) => {
        expect(checkEntryPath([...before, '..', ...after].join(sep))).toBeDefined();
      }),
    );
  });

  it('rejects any path starting with a separator', () => {
    fc.assert(
      fc.property(separator, fc.string(), (sep, rest) => {
        expect(checkEntryPath(sep + rest)).toBeDefined();
      }),
    );
  });
});

describe('entryTypeOf', () => {
  it.each([
    [0, EntryType.Unspecified],
    [0x10, EntryType.Unspecified], // MS-DOS directory attribute only
    [(0o100644 << 16) >>> 0, EntryType.File],
    [(0o040755 << 16) >>> 0, EntryType.Directory],
    [(0o120777 << 16) >>> 0, EntryType.Symlink],
    [(0o010644 << 16) >>> 0, EntryType.Special],
    [(0o020644 << 16) >>> 0, EntryType.Special],
    [(0o060644 << 16) >>> 0, EntryType.Special],
    [(0o140755 << 16) >>> 0, EntryType.Special],
  ])('reads external attributes %i as %s', (attributes, type) => {
    expect(entryTypeOf(attributes)).toBe(type);
  });
});

describe('nameKeyOf', () => {
  it.each([
    ['index.mjs', 'index.mjs'],
    ['Index.MJS', 'index.mjs'],
    ['./index.mjs', 'index.mjs'],
    ['lib\\a.js', 'lib/a.js'],
    ['lib//./a.js', 'lib/a.js'],
    ['lib/', 'lib'],
    ['cafe\u0301.js', 'caf\u00e9.js'],
  ])('folds %j to %j', (name, key) => {
    expect(nameKeyOf(name)).toBe(key);
  });

  it('folds a name the same way whatever spelling of it is given', () => {
    fc.assert(
      fc.property(fc.array(safeSegment, { minLength: 1, maxLength: 5 }), separator, (segments, sep) => {
        const plain = segments.join('/');
        expect(nameKeyOf(`./${segments.join(sep)}`)).toBe(nameKeyOf(plain.toUpperCase()));
      }),
    );
  });
});

describe('createNameRegistry', () => {
  it('accepts distinct files, and directories listed next to their files', () => {
    const registry = createNameRegistry();
    expect(registry.add('"lib/"', ['lib/'], true)).toBeUndefined();
    expect(registry.add('"lib/a.js"', ['lib/a.js'], false)).toBeUndefined();
    expect(registry.add('"lib/b.js"', ['lib/b.js'], false)).toBeUndefined();
    expect(registry.add('"index.js"', ['index.js'], false)).toBeUndefined();
  });

  it('reports a clash under any of the names an entry may be read as', () => {
    const registry = createNameRegistry();
    expect(registry.add('"a.js"', ['a.js'], false)).toBeUndefined();
    expect(registry.add('"\u251c.js"', ['\u251c.js', 'A.js'], false)).toBe('names the same file as "a.js"');
  });

  it('never accepts the same set of names twice', () => {
    fc.assert(
      fc.property(fc.array(safeSegment, { minLength: 1, maxLength: 4 }), (segments) => {
        const registry = createNameRegistry();
        const name = segments.join('/');
        expect(registry.add('"first"', [name], false)).toBeUndefined();
        expect(registry.add('"second"', [name], false)).toBeDefined();
      }),
    );
  });
});
