/**
 * The layout the README describes, checked on the source: no import cycles (a cycle makes module
 * order matter and hides which layer depends on which), and imports go one way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

/** Every .ts file under src and the relative modules it imports (type-only imports included). */
function readGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    const imports = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map(
      (m) => m[1] ?? m[2] ?? '',
    );
    graph.set(
      path.relative(SRC, file),
      imports.map((spec) =>
        spec.startsWith('.')
          ? path.relative(SRC, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')))
          : spec,
      ),
    );
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan): each is at least one cycle. */
function findCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

const layer = (module: string) => module.split(path.sep)[0] ?? '';

describe('src layout', () => {
  const graph = readGraph();

  it('reads the modules it checks', () => {
    expect(graph.get(path.join('engine', 'deploy-build.ts'))).toContain(path.join('engine', 'release-stage.ts'));
  });

  it('finds a cycle when there is one', () => {
    const looped = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycles', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('keeps imports going one way: core and aws import no engine, runtime or front; nothing imports the sandbox', () => {
    const wrong: string[] = [];
    for (const [module, imports] of graph) {
      for (const target of imports) {
        if (target.startsWith('@ferry/aws-sandbox')) wrong.push(`${module} → ${target}`);
        const from = layer(module);
        const to = layer(target);
        if (['core', 'aws', 'artifact'].includes(from) && ['engine', 'runtime', 'handlers', 'cli'].includes(to)) {
          wrong.push(`${module} → ${target}`);
        }
        if (from === 'core' && target.startsWith('@aws-sdk/')) wrong.push(`${module} → ${target}`);
        if (from === 'engine' && ['handlers', 'cli'].includes(to)) wrong.push(`${module} → ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
