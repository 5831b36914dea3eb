/**
 * Just enough CloudFormation to read ferry's own templates without deploying them: a YAML schema
 * for the short intrinsic tags (!Ref, !Sub, …) and an evaluator for the intrinsics whose result is
 * known up front (Ref to parameters and pseudo parameters, Fn::Sub, Fn::Join, Fn::Split,
 * Fn::Select). The sandbox builds the target accounts' deploy roles from
 * templates/target-account-role.yml with it, and the deployment tests check that template.
 */
import { parse, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';

const FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
];
const CONDITIONS = ['And', 'Equals', 'If', 'Not', 'Or'];

function fnName(short: string): string {
  return short === 'Ref' || short === 'Condition' ? short : `Fn::${short}`;
}

function intrinsicTags(): Tags {
  const tags: Tags = [];
  for (const short of ['Ref', 'Condition', 'GetAtt', ...FUNCTIONS, ...CONDITIONS]) {
    const key = fnName(short);
    tags.push({
      tag: `!${short}`,
      resolve: (value: string) => (short === 'GetAtt' ? { [key]: value.split('.', 2) } : { [key]: value }),
    });
    tags.push({
      tag: `!${short}`,
      collection: 'seq',
      resolve: (seq) => ({ [key]: (seq as YAMLSeq).toJSON() }),
    } as Tags[number]);
    tags.push({
      tag: `!${short}`,
      collection: 'map',
      resolve: (map) => ({ [key]: (map as YAMLMap).toJSON() }),
    } as Tags[number]);
  }
  return tags;
}

/** Parses a CloudFormation YAML template, turning short-form tags into their long JSON form. */
export function parseTemplate(text: string): Record<string, unknown> {
  return parse(text, { customTags: intrinsicTags() }) as Record<string, unknown>;
}

interface ParameterDeclaration {
  readonly Default?: unknown;
  readonly AllowedPattern?: string;
  readonly AllowedValues?: readonly unknown[];
}

/**
 * The parameter values a stack would get, as CloudFormation resolves them: the given value, else
 * the parameter's Default; a parameter with neither, a value that misses its AllowedPattern
 * (matched against the whole value) or AllowedValues, or an undeclared parameter is an error
 * naming it.
 */
export function resolveTemplateParameters(
  template: Record<string, unknown>,
  given: Readonly<Record<string, string>>,
): Record<string, string> {
  const declared = (template.Parameters ?? {}) as Record<string, ParameterDeclaration>;
  for (const name of Object.keys(given)) {
    if (!(name in declared)) throw new Error(`Parameters: [${name}] do not exist in the template`);
  }
  const resolved: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, declaration] of Object.entries(declared)) {
    const value = given[name] ?? (declaration.Default === undefined ? undefined : String(declaration.Default));
    if (value === undefined) {
      missing.push(name);
      continue;
    }
    if (declaration.AllowedPattern !== undefined && !new RegExp(`^(?:${declaration.AllowedPattern})$`).test(value)) {
      throw new Error(`Parameter '${name}' must match pattern ${declaration.AllowedPattern}`);
    }
    if (declaration.AllowedValues !== undefined && !declaration.AllowedValues.map(String).includes(value)) {
      throw new Error(`Parameter '${name}' must be one of AllowedValues`);
    }
    resolved[name] = value;
  }
  if (missing.length > 0) throw new Error(`Parameters: [${missing.join(', ')}] must have values`);
  return resolved;
}

export interface EvalContext {
  readonly parameters: Readonly<Record<string, string>>;
  readonly partition?: string;
  readonly region?: string;
  readonly accountId?: string;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Evaluates the intrinsics the deploy-role template uses; anything else throws so a test never passes by accident. */
export function evaluate(node: unknown, ctx: EvalContext): Json {
  const pseudo: Record<string, string> = {
    'AWS::Partition': ctx.partition ?? 'aws',
    'AWS::Region': ctx.region ?? 'eu-west-1',
    'AWS::AccountId': ctx.accountId ?? '222222222222',
  };
  const ref = (name: string, locals: Record<string, Json> = {}): Json => {
    if (name in locals) return locals[name] as Json;
    if (name in pseudo) return pseudo[name] as string;
    if (name in ctx.parameters) return ctx.parameters[name] as string;
    throw new Error(`cannot evaluate Ref ${name}`);
  };
  const go = (n: unknown): Json => {
    if (Array.isArray(n)) return n.map(go);
    if (n === null || typeof n !== 'object') return n as Json;
    const entries = Object.entries(n as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref':
          return ref(arg as string);
        case 'Fn::Join': {
          const [delimiter, list] = arg as [string, unknown];
          return (go(list) as Json[]).map(String).join(delimiter);
        }
        case 'Fn::Split': {
          const [delimiter, source] = arg as [string, unknown];
          return String(go(source)).split(delimiter);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (go(list) as Json[])[Number(go(index))] as Json;
        }
        case 'Fn::Sub': {
          const [template, vars] = (typeof arg === 'string' ? [arg, {}] : arg) as [string, Record<string, unknown>];
          const locals = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, go(v)]));
          return template.replace(/\$\{([^}!]+)\}/g, (_, name: string) => String(ref(name, locals)));
        }
        default:
          if (key.startsWith('Fn::') || key === 'Condition') throw new Error(`cannot evaluate ${key}`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, go(v)]));
  };
  return go(node);
}
