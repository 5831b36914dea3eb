import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEntryPath } from '../../../src/artifact/zip-entry-rules.js';

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
