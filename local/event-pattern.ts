/**
 * The EventBridge event-pattern language, for the local bus (design §3, "EventBridge").
 *
 * Why this is hand-written: the local bus must route with the same rule patterns as the AWS deployment, and
 * no maintained npm package offers EventBridge pattern matching as a library that runs offline. Checked on
 * this machine: `npm search` is not served by the registry reachable here (404), and `npm view` finds no
 * `event-pattern-matcher`, `@aws/eventbridge-pattern` or `eb-patterns` (all 404). The one related package
 * that exists, `serverless-offline-aws-eventbridge` (2.2.4, last published 2024-12), is a serverless-offline
 * plugin (peer dependency `serverless-offline`, pulls express, aedes, mqtt, node-cron) whose matcher is internal,
 * not an API. The reference implementation, aws/event-ruler, is a Java library (`event-ruler` on PyPI wraps it
 * for Python). `TestEventPattern` needs an AWS account. So the subset we use is implemented here, once, following
 * the EventBridge user guide ("Amazon EventBridge event patterns", "Content filtering in Amazon EventBridge event
 * patterns") and event-ruler's rule compiler for what counts as malformed.
 *
 * Supported:
 * - exact values: string, number, true, false, null. A leaf is always an array of alternatives: OR within the
 *   array, AND across fields; nested objects match into nested event objects (`detail`, ...).
 * - event arrays: a leaf matches if any element of the event array matches; a nested pattern matches an array of
 *   objects if one element matches the whole nested pattern (array-consistent, like `rulesForJSONEvent`).
 * - `prefix` / `suffix`: a string, or `{ "equals-ignore-case": string }`.
 * - `equals-ignore-case`: a string.
 * - `anything-but`: a string, a number, a non-empty list of only strings or only numbers, `{ "prefix": s }`,
 *   `{ "suffix": s }`, `{ "equals-ignore-case": s | [s, ...] }`. Like EventBridge it needs the field present.
 * - `numeric`: `[op, n]` with op one of `=`, `<`, `<=`, `>`, `>=`, or a range `[">" | ">=", a, "<" | "<=", b]`
 *   with a < b (the grammar event-ruler accepts). Only JSON numbers in the event match.
 * - `exists`: true / false, on leaf values only. A field that is absent, an object (not a leaf) or an empty array
 *   does not exist; null does.
 * - `$or`: an array of at least two pattern objects, at any level.
 * Not supported (rejected by validation, so a rule using them fails loudly instead of silently never matching):
 * `cidr`, `wildcard`. Known difference: EventBridge compares number literals by their JSON text in some cases;
 * after JSON.parse, 300 and 300.0 are the same number here.
 *
 * The event is the full EventBridge event (`source`, `detail-type`, `detail` as an object, ...): the bus parses
 * PutEvents' `Detail` string before matching.
 */

/** Thrown for a malformed pattern; named after EventBridge's InvalidEventPatternException. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternException';
  /** Where in the pattern, e.g. `$.detail.c-count[0].numeric`. */
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`Event pattern is not valid at ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** A validated pattern, ready to test events. */
export type EventMatcher = (event: unknown) => boolean;

/** Throws InvalidEventPatternError if the pattern (an object, or its JSON text) is malformed. */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

/** Validates the pattern once and returns a predicate over events; the bus compiles each rule at registration. */
export function compilePattern(pattern: unknown): EventMatcher {
  let parsed = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern) as unknown;
    } catch (err) {
      throw new InvalidEventPatternError(ROOT, `not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isPlainObject(parsed)) throw new InvalidEventPatternError(ROOT, 'the pattern must be a JSON object');
  return compileObject(parsed, ROOT, false);
}

/** True when the event matches the pattern. Throws InvalidEventPatternError if the pattern is malformed. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

// ---------------------------------------------------------------------------------------------------------------

const ROOT = '$';
const OR = '$or';
/** Operator names that cannot be field names inside `$or` (event-ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP). */
const RESERVED_IN_OR = new Set(['exactly', 'prefix', 'suffix', 'anything-but', 'numeric', 'cidr', 'exists', 'equals-ignore-case', 'wildcard']);
const UNSUPPORTED = new Set(['cidr', 'wildcard']);

type Leaf = string | number | boolean | null;
type Predicate = (value: unknown) => boolean;
/** One alternative of a leaf array, tested against all leaf values found at the field. */
type Alternative = (leaves: readonly Leaf[]) => boolean;
type JsonObject = Record<string, unknown>;

const EMPTY: JsonObject = Object.freeze({});

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function child(path: string, key: string): string {
  return `${path}.${key}`;
}

function fail(path: string, reason: string): never {
  throw new InvalidEventPatternError(path, reason);
}

/** The event objects a nested pattern is matched against: the object itself, or the objects of an (nested) array. */
function candidates(value: unknown): readonly JsonObject[] {
  if (isPlainObject(value)) return [value];
  if (Array.isArray(value)) {
    const objects = (value.flat(Infinity) as unknown[]).filter(isPlainObject);
    if (objects.length > 0) return objects;
  }
  // Absent, a leaf, or an array without objects: every field below is absent (exists:false can still match).
  return [EMPTY];
}

/** The leaf values at a field: the value itself, or the leaves of an (nested) array; objects are not leaves. */
function leafValues(value: unknown): Leaf[] {
  if (Array.isArray(value)) return value.flatMap(leafValues);
  return isLeaf(value) ? [value] : [];
}

function field(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function compileObject(pattern: JsonObject, path: string, inOr: boolean): Predicate {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, 'empty objects are not allowed');
  const checks: Array<(obj: JsonObject) => boolean> = [];
  for (const key of keys) {
    const sub = pattern[key];
    const subPath = child(path, key);
    if (key === OR) {
      if (!Array.isArray(sub)) fail(subPath, '"$or" must be followed by an array of pattern objects');
      if (sub.length < 2) fail(subPath, '"$or" needs at least 2 pattern objects');
      const branches = sub.map((branch: unknown, i) => {
        const branchPath = `${subPath}[${i}]`;
        if (!isPlainObject(branch)) fail(branchPath, 'only JSON objects are allowed in a "$or" array');
        return compileObject(branch, branchPath, true);
      });
      checks.push((obj) => branches.some((branch) => branch(obj)));
      continue;
    }
    if (inOr && RESERVED_IN_OR.has(key)) fail(subPath, `"${key}" is an operator name and cannot be a field name inside "$or"`);
    if (Array.isArray(sub)) {
      const leaf = compileLeaf(sub, subPath);
      checks.push((obj) => leaf(field(obj, key)));
    } else if (isPlainObject(sub)) {
      const nested = compileObject(sub, subPath, inOr);
      checks.push((obj) => nested(field(obj, key)));
    } else {
      fail(subPath, `"${key}" must be an object or an array (a pattern leaf is always an array of values)`);
    }
  }
  return (value) => candidates(value).some((obj) => checks.every((check) => check(obj)));
}

function compileLeaf(alternatives: unknown[], path: string): Predicate {
  if (alternatives.length === 0) fail(path, 'empty arrays are not allowed');
  const compiled = alternatives.map((alt, i) => compileAlternative(alt, `${path}[${i}]`));
  return (value) => {
    const leaves = leafValues(value);
    return compiled.some((alt) => alt(leaves));
  };
}

function compileAlternative(alt: unknown, path: string): Alternative {
  if (typeof alt === 'number' && !Number.isFinite(alt)) fail(path, 'numbers must be finite');
  if (isLeaf(alt)) return (leaves) => leaves.includes(alt);
  if (!isPlainObject(alt)) fail(path, 'match values must be a string, number, true, false, null or an operator object');
  const ops = Object.keys(alt);
  if (ops.length !== 1) fail(path, ops.length === 0 ? 'empty operator object' : `only one key allowed in a match expression, got ${ops.join(', ')}`);
  const op = ops[0] as string;
  const arg = alt[op];
  const opPath = child(path, op);
  if (op === 'exists') {
    if (typeof arg !== 'boolean') fail(opPath, 'exists must be true or false');
    return (leaves) => (leaves.length > 0) === arg;
  }
  const test = compileOperator(op, arg, opPath);
  return (leaves) => leaves.some(test);
}

/** A value operator: tests one leaf value of the event. */
function compileOperator(op: string, arg: unknown, path: string): (v: Leaf) => boolean {
  switch (op) {
    case 'prefix':
    case 'suffix': {
      const { text, ignoreCase } = stringOrIgnoreCase(arg, op, path);
      const fits = op === 'prefix' ? (s: string) => s.startsWith(text) : (s: string) => s.endsWith(text);
      return (v) => typeof v === 'string' && fits(ignoreCase ? lower(v) : v);
    }
    case 'equals-ignore-case': {
      if (typeof arg !== 'string') fail(path, 'equals-ignore-case must be a string');
      const text = lower(arg);
      return (v) => typeof v === 'string' && lower(v) === text;
    }
    case 'anything-but':
      return compileAnythingBut(arg, path);
    case 'numeric':
      return compileNumeric(arg, path);
    default:
      if (UNSUPPORTED.has(op)) fail(path, `the "${op}" operator is not supported by the local event-pattern matcher`);
      return fail(path, `unknown operator "${op}"`);
  }
}

function lower(s: string): string {
  return s.toLowerCase();
}

function stringOrIgnoreCase(arg: unknown, op: string, path: string): { text: string; ignoreCase: boolean } {
  if (typeof arg === 'string') return { text: arg, ignoreCase: false };
  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    const inner = arg['equals-ignore-case'];
    if (keys.length === 1 && typeof inner === 'string') return { text: lower(inner), ignoreCase: true };
  }
  return fail(path, `${op} must be a string or { "equals-ignore-case": string }`);
}

function compileAnythingBut(arg: unknown, path: string): (v: Leaf) => boolean {
  if (typeof arg === 'string' || (typeof arg === 'number' && Number.isFinite(arg))) return (v) => v !== arg;
  if (Array.isArray(arg)) {
    const allStrings = arg.every((x) => typeof x === 'string');
    const allNumbers = arg.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (arg.length === 0 || !(allStrings || allNumbers)) {
      fail(path, 'an anything-but list must be non-empty and hold only strings or only numbers');
    }
    const excluded = new Set<unknown>(arg);
    return (v) => !excluded.has(v);
  }
  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1) fail(path, 'anything-but takes one of prefix, suffix or equals-ignore-case');
    const key = keys[0] as string;
    const inner = arg[key];
    const innerPath = child(path, key);
    if (key === 'prefix' || key === 'suffix') {
      if (typeof inner !== 'string' || inner === '') fail(innerPath, `anything-but ${key} must be a non-empty string`);
      return key === 'prefix' ? (v) => !(typeof v === 'string' && v.startsWith(inner)) : (v) => !(typeof v === 'string' && v.endsWith(inner));
    }
    if (key === 'equals-ignore-case') {
      const list = typeof inner === 'string' ? [inner] : inner;
      if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string')) {
        fail(innerPath, 'anything-but equals-ignore-case must be a string or a non-empty list of strings');
      }
      const excluded = new Set((list as string[]).map(lower));
      return (v) => !(typeof v === 'string' && excluded.has(lower(v)));
    }
    return fail(innerPath, `unsupported anything-but operator "${key}"`);
  }
  return fail(path, 'anything-but must be a string, a number, a list of them, or a prefix/suffix/equals-ignore-case object');
}

type Comparison = '=' | '<' | '<=' | '>' | '>=';
const LOWER_OPS = new Set(['>', '>=']);
const UPPER_OPS = new Set(['<', '<=']);

function compileNumeric(arg: unknown, path: string): (v: Leaf) => boolean {
  if (!Array.isArray(arg)) fail(path, 'numeric must be an array like [">", 0, "<=", 5]');
  if (arg.length !== 2 && arg.length !== 4) {
    fail(path, `numeric takes an operator and a number, or a lower and an upper bound (got ${arg.length} elements)`);
  }
  const terms: Array<[Comparison, number]> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op: unknown = arg[i];
    const bound: unknown = arg[i + 1];
    if (typeof op !== 'string' || !(op === '=' || LOWER_OPS.has(op) || UPPER_OPS.has(op))) {
      fail(`${path}[${i}]`, `unknown numeric operator ${JSON.stringify(op)} (use =, <, <=, >, >=)`);
    }
    if (typeof bound !== 'number' || !Number.isFinite(bound)) fail(`${path}[${i + 1}]`, `value of ${op} must be a number`);
    terms.push([op as Comparison, bound]);
  }
  const [first, second] = terms as [[Comparison, number], [Comparison, number]?];
  if (second) {
    if (!LOWER_OPS.has(first[0]) || !UPPER_OPS.has(second[0])) {
      fail(path, 'a numeric range must be a lower bound (> or >=) followed by an upper bound (< or <=)');
    }
    if (!(first[1] < second[1])) fail(path, `numeric range lower bound ${first[1]} must be below upper bound ${second[1]}`);
  }
  return (v) => typeof v === 'number' && terms.every(([op, bound]) => compare(v, op, bound));
}

function compare(v: number, op: Comparison, bound: number): boolean {
  switch (op) {
    case '=':
      return v === bound;
    case '<':
      return v < bound;
    case '<=':
      return v <= bound;
    case '>':
      return v > bound;
    case '>=':
      return v >= bound;
  }
}
