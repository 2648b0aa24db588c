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

/** The first issue as one line: `<where>: <field> <message>` (unknown keys: `unknown setting 'x' (settings: ...)`). */
export function issueText(where: string, issue: z.core.$ZodIssue, knownKeys?: readonly string[]): string {
  const field = fieldPath(issue.path);
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

/**
 * A whole number in [min, max], also written as digits in a string (INI files have only strings);
 * `must be a whole number from min to max (got ...)` otherwise.
 */
export function wholeNumberIn(min: number, max: number): z.ZodType<number> {
  const message = (input: unknown): string => `must be a whole number from ${min} to ${max} ${got(input)}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v),
    z.number({ error: (i) => message(i.input) }).int({ error: (i) => message(i.input) })
      .min(min, { error: (i) => message(i.input) }).max(max, { error: (i) => message(i.input) }),
  );
}

/** A string matching `pattern`; `must be <what> (got ...)` otherwise. */
export function matching(pattern: RegExp, what: string): z.ZodType<string> {
  const message = (input: unknown): string => `must be ${what} ${got(input)}`;
  return z.string({ error: (i) => message(i.input) }).regex(pattern, { error: (i) => message(i.input) });
}
