/**
 * The artifact convention: `<prefix><app>/<build>.zip`. The key names the app and the build and
 * nothing else: it never chooses an account, a region or a role (configuration does).
 */
import { InputError } from './errors.js';

/** App and stage names appear in object keys, session names and ledger keys: keep them plain. */
export const APP_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Build identifiers: 1–128 of letters, digits, '.', '_', '-', starting with a letter or digit. */
export const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface ArtifactKey {
  readonly app: string;
  readonly build: string;
}

/**
 * Decodes an S3 event key: event notifications URL-encode keys and encode spaces as '+'.
 * Throws InputError on malformed percent-encoding.
 */
export function decodeEventKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch (cause) {
    throw new InputError('KEY_MALFORMED', `The object key '${encoded}' is not valid URL encoding.`, { cause });
  }
}

/** Parses a (decoded) object key; throws InputError saying the expected form. */
export function parseArtifactKey(key: string, prefix: string): ArtifactKey {
  const expected = `expected ${prefix}<app>/<build>.zip, where app matches ${APP_NAME.source} and build matches ${BUILD_ID.source}`;
  if (!key.startsWith(prefix)) {
    throw new InputError('KEY_MALFORMED', `The object key '${key}' is outside the artifact prefix: ${expected}.`, {
      context: { key },
    });
  }
  const rest = key.slice(prefix.length);
  const parts = rest.split('/');
  const [app, file] = parts;
  if (parts.length !== 2 || app === undefined || file === undefined || !file.endsWith('.zip')) {
    throw new InputError('KEY_MALFORMED', `The object key '${key}' does not follow the convention: ${expected}.`, {
      context: { key },
    });
  }
  const build = file.slice(0, -'.zip'.length);
  if (!APP_NAME.test(app)) {
    throw new InputError('KEY_MALFORMED', `The app '${app}' in key '${key}' is not a valid app name: ${expected}.`, {
      context: { key },
    });
  }
  if (!BUILD_ID.test(build)) {
    throw new InputError(
      'KEY_MALFORMED',
      `The build '${build}' in key '${key}' is not a valid build id: ${expected}.`,
      {
        context: { key },
      },
    );
  }
  return { app, build };
}

/** The object key for an app's build. */
export function formatArtifactKey(prefix: string, artifact: ArtifactKey): string {
  return `${prefix}${artifact.app}/${artifact.build}.zip`;
}

/**
 * Orders build identifiers naturally: runs of digits compare as numbers, other runs as text
 * (`9 < 10`, `1.2.9 < 1.2.10`, `20261101-1 < 20261102-0`). Returns <0, 0 or >0.
 * Equal numbers with different zero padding fall back to plain comparison, so the order is total.
 */
export function compareBuilds(a: string, b: string): number {
  const ra = tokenize(a);
  const rb = tokenize(b);
  const n = Math.min(ra.length, rb.length);
  for (let i = 0; i < n; i++) {
    const x = ra[i] as string;
    const y = rb[i] as string;
    const c = compareToken(x, y);
    if (c !== 0) return c;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokenize(s: string): string[] {
  return s.match(/\d+|\D+/g) ?? [];
}

function compareToken(x: string, y: string): number {
  const dx = /^\d/.test(x);
  const dy = /^\d/.test(y);
  if (dx && dy) {
    const tx = x.replace(/^0+(?=\d)/, '');
    const ty = y.replace(/^0+(?=\d)/, '');
    if (tx.length !== ty.length) return tx.length - ty.length;
    return tx < ty ? -1 : tx > ty ? 1 : 0;
  }
  if (dx !== dy) return dx ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
