// One way to check configuration files (zod): a schema gives the typed value, the JSON Schema published
// in schemas/ (scripts/schemas.ts, z.toJSONSchema) and the error messages. A message names the file and
// the field (`fleet.json boards[2]: port must be a whole number from 1 to 65535 (got 70000)`), as the
// hand-written checks it replaces did. Schemas say "must be ..." in their own `error` texts.
import { z } from 'zod';

/** `boards[2].port` from zod's path ['boards', 2, 'port']. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

/**
 * For a value that matches no option of a union, the problem of the option it came closest to (an object
 * with one bad field), so the message names that field; the union's own message when every option refused
 * the value's type.
 */
function closestIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  for (const option of issue.errors) {
    const first = option[0];
    if (first !== undefined && first.path.length > 0) return closestIssue({ ...first, path: [...issue.path, ...first.path] });
  }
  return issue;
}

/** The first issue as one line: `<where>: <field> <message>` (unknown keys: `unknown setting 'x' (settings: ...)`). */
export function issueText(where: string, rawIssue: z.core.$ZodIssue, knownKeys?: readonly string[]): string {
  const issue = closestIssue(rawIssue);
  const field = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys' && issue.message.startsWith(ABSENT)) return `${where}: ${issueField(issue)} ${issue.message}`;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys === undefined ? '' : ` (settings: ${knownKeys.join(', ')})`;
    return `${where}${field === '' ? '' : ` ${field}`}: unknown setting '${issue.keys[0]}'${known}`;
  }
  return `${where}: ${field === '' ? '' : `${field} `}${issue.message}`;
}

/** The value `schema` makes of `input`, or `fail(message)` for its first issue. */
export function parseConfig<S extends z.ZodType>(
  schema: S, input: unknown, where: string, fail: (message: string) => never, knownKeys?: readonly string[],
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  return fail(issueText(where, r.error.issues[0]!, knownKeys));
}

/** `(got "x")`, for messages that show what was given. */
export function got(input: unknown): string {
  return `(got ${JSON.stringify(input) ?? String(input)})`;
}

/** zod's `error` option giving `must be <what> (got ...)`. */
export function mustBe(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `must be ${what} ${got(issue.input)}` };
}

/** A JSON whole number in [min, max]; `must be a whole number from min to max (got ...)` otherwise. */
export function wholeNumber(min: number, max: number): z.ZodNumber {
  const e = mustBe(`a whole number from ${min} to ${max}`);
  return z.number(e).int(e).min(min, e).max(max, e);
}

/** A non-empty string; `must be a non-empty string (got ...)` otherwise. */
export function nonEmptyString(): z.ZodString {
  const e = mustBe('a non-empty string');
  return z.string(e).min(1, e);
}

const ABSENT = 'must be absent: ';

/**
 * zod's `error` option of a strict object: `must be <what> (got ...)` for a value that is no object, and
 * `<field>.<key> must be absent: <why>` for a key it does not know.
 */
export function objectErrors(what: string, absentWhy: string): { error: (issue: { code?: string; input?: unknown }) => string } {
  return { error: (issue) => (issue.code === 'unrecognized_keys' ? `${ABSENT}${absentWhy}` : `must be ${what} ${got(issue.input)}`) };
}

/** The field an issue is about; for an unknown key, that key. */
export function issueField(issue: z.core.$ZodIssue): string {
  return fieldPath(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path);
}

/**
 * A whole number in [min, max], also written as digits in a string (INI files have only strings);
 * `must be a whole number from min to max (got ...)` otherwise.
 */
export function wholeNumberIn(min: number, max: number): z.ZodType<number> {
  return z.preprocess((v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v), wholeNumber(min, max));
}

/** A string matching `pattern`; `must be <what> (got ...)` otherwise. */
export function matching(pattern: RegExp, what: string): z.ZodType<string> {
  const e = mustBe(what);
  return z.string(e).regex(pattern, e);
}
