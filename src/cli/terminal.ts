/**
 * What the terminal can show: colour (never when NO_COLOR is set, TERM is dumb or stdout is not a
 * terminal; FORCE_COLOR turns it on), the width tables are fitted to (the terminal's, or COLUMNS),
 * and whether progress may redraw a live line on stderr (a terminal, not CI, not --json).
 */
import { stripVTControlCharacters } from 'node:util';
import type { CliIo } from './output.js';

export interface Terminal {
  readonly color: boolean;
  /** Columns to fit tables to; undefined: no limit (a pipe or a file gets whole lines). */
  readonly width?: number;
  /** Progress may redraw one live line on stderr. */
  readonly live: boolean;
}

export function detectTerminal(io: CliIo, env: NodeJS.ProcessEnv, options: { json?: boolean } = {}): Terminal {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const dumb = env.TERM === 'dumb';
  const color = !noColor && !options.json && (forced || (io.stdoutIsTTY === true && !dumb));
  const columns = Number(env.COLUMNS);
  const width =
    io.stdoutIsTTY && io.columns ? io.columns : Number.isInteger(columns) && columns > 0 ? columns : undefined;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
  const live = io.stderrIsTTY === true && !ci && !dumb && !options.json;
  return { color, ...(width === undefined ? {} : { width }), live };
}

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22] } as const;
export type Style = keyof typeof CODES;

/** Wraps text in an ANSI style when colour is on. */
export function paint(term: Pick<Terminal, 'color'>, style: Style, text: string): string {
  if (!term.color || text === '') return text;
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Columns a string takes on screen (ANSI styles take none). */
export function visibleWidth(text: string): number {
  return [...stripVTControlCharacters(text)].length;
}

/** Cuts text to `width` columns, ending in '…' when it was longer. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** Wraps text at spaces into lines of at most `width` columns (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines.length > 0 ? lines : [''];
}
