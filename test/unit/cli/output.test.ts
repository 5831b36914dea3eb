import { describe, expect, it } from 'vitest';
import {
  ExitCode,
  exitCodeForError,
  exitCodeForFailures,
  formatDuration,
  renderTable,
  UsageError,
} from '../../../src/cli/output.js';
import { formatBuildId } from '../../../src/cli/upload.js';
import { compareBuilds } from '../../../src/core/artifact-key.js';
import {
  AccessError,
  ArtifactError,
  ConfigurationError,
  ConflictError,
  DeployFailedError,
  InputError,
  InternalError,
  ThrottledError,
  TimeoutError,
} from '../../../src/core/errors.js';

describe('exit codes', () => {
  it('are stable numbers', () => {
    expect(ExitCode).toEqual({ Ok: 0, Failed: 1, Usage: 2, Rejected: 3, AccessDenied: 4, Transient: 5, Drift: 6 });
  });

  it.each([
    [new ConfigurationError('C', 'm'), 2],
    [new UsageError('m'), 2],
    [new InputError('C', 'm'), 3],
    [new ArtifactError('C', 'm'), 3],
    [new AccessError('C', 'm'), 4],
    [new ConflictError('C', 'm'), 5],
    [new ThrottledError('C', 'm'), 5],
    [new TimeoutError('C', 'm'), 5],
    [new DeployFailedError('C', 'm'), 1],
    [new InternalError('C', 'm'), 1],
    [new Error('socket hang up'), 1],
  ])('map %s to %i', (error, code) => {
    expect(exitCodeForError(error)).toBe(code);
  });

  it('keep one failure kind when every target failed alike, else 1', () => {
    expect(exitCodeForFailures([new ConflictError('C', 'm'), new ThrottledError('T', 'm')])).toBe(5);
    expect(exitCodeForFailures([new ConflictError('C', 'm'), new AccessError('A', 'm')])).toBe(1);
    expect(exitCodeForFailures([])).toBe(1);
  });
});

describe('renderTable', () => {
  it('aligns columns, shows empty cells as -, and leaves no trailing spaces', () => {
    expect(
      renderTable(
        ['APP', 'BUILD', 'NOTE'],
        [
          ['orders-api', 42, undefined],
          ['b', '7', 'x'],
        ],
      ),
    ).toBe('APP         BUILD  NOTE\norders-api  42     -\nb           7      x\n');
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [4200, '4.2s'],
    [192_000, '3m12s'],
    [18_180_000, '5h03m'],
    [187_200_000, '2d04h'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatBuildId', () => {
  it('is a fixed-width UTC timestamp that orders as time does', () => {
    const a = new Date('2026-01-02T03:04:05.678Z');
    const b = new Date('2026-10-02T03:04:05.000Z');
    expect(formatBuildId(a)).toBe('20260102T030405Z');
    expect(compareBuilds(formatBuildId(a), formatBuildId(b))).toBeLessThan(0);
  });
});
