/** The benchmark's results: rows for the markdown table, figures for the JSON, the machine line. */
import { cpus, platform, release, totalmem } from 'node:os';

export const RowStatus = {
  Met: 'met',
  Missed: 'missed',
  /** A measurement with no target of its own (context for another row). */
  Info: 'info',
  /** Not measured in this run (smoke, or a tool not available); the note says why. */
  Skipped: 'skipped',
} as const;
export type RowStatus = (typeof RowStatus)[keyof typeof RowStatus];

export interface Row {
  readonly measure: string;
  readonly result: string;
  readonly target: string;
  readonly status: RowStatus;
  readonly note?: string;
}

export interface SectionResult {
  readonly id: string;
  readonly title: string;
  readonly rows: readonly Row[];
  /** Raw figures for the JSON (every sample, every count). */
  readonly figures: Record<string, unknown>;
}

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly os: string;
  readonly memoryGiB: number;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  };
}

export function formatMachineLine(machine: Machine, when: Date, smoke: boolean): string {
  return `${smoke ? 'Smoke run' : 'Measured'} on ${when.toISOString().slice(0, 10)}: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}; sandbox in its own process, Lambda update delay 200 ms, rate limits on.`;
}

const STATUS_TEXT: Record<RowStatus, string> = {
  met: 'yes',
  missed: '**missed**',
  info: '–',
  skipped: 'skipped',
};

export function renderTable(sections: readonly SectionResult[]): string {
  const lines = ['| Benchmark | Result | Target | Met | Note |', '|---|---|---|---|---|'];
  for (const section of sections) {
    for (const row of section.rows) {
      lines.push(
        `| ${escapeCell(`${section.title}: ${row.measure}`)} | ${escapeCell(row.result)} | ${escapeCell(row.target)} | ${STATUS_TEXT[row.status]} | ${escapeCell(row.note ?? '')} |`,
      );
    }
  }
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
