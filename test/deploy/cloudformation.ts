/** Test helpers for CloudFormation documents; parsing and evaluation live with the sandbox. */
export { evaluate, parseTemplate, resolveTemplateParameters } from '@ferry/aws-sandbox';

/** A statement's Action or Resource as a list. */
export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * A parsed template, variables file or policy, navigated structurally by the tests. The tests
 * assert on the shape, so a wrong path fails an expectation rather than the type checker.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON/YAML documents under test
export type Loose = any;
