// The one way configuration files are checked (src/config/validate.ts): zod schemas whose first problem
// becomes one line naming the file, the field and what it must be. Every loader (board profiles,
// board.json, network.json, the fleet inventory, gossip settings, bundle manifests) words its errors
// through these, so the texts are what operators read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import {
  fieldPath, got, issueText, matching, mustBe, nonEmptyString, objectErrors, parseConfig, wholeNumber, wholeNumberIn,
} from '../../../src/config/validate.js';

class ConfigError extends Error {}
const fail = (message: string): never => {
  throw new ConfigError(message);
};

/** parseConfig's message for `input`, which `schema` must refuse. */
function refusal(schema: z.ZodType, input: unknown, where = 'fleet.json', knownKeys?: readonly string[]): string {
  try {
    parseConfig(schema, input, where, fail, knownKeys);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

const PORT = wholeNumber(1, 65_535);
const FLEET = z.strictObject({ boards: z.array(z.strictObject({ host: nonEmptyString(), port: PORT })) });

test('fieldPath: names and indexes as an operator writes them', () => {
  assert.equal(fieldPath(['boards', 2, 'port']), 'boards[2].port');
  assert.equal(fieldPath([0, 'a', 'b']), '[0].a.b');
  assert.equal(fieldPath([]), '');
});

test('parseConfig gives the schema\'s value when the input is good', () => {
  const v = parseConfig(FLEET, { boards: [{ host: 'pi-1', port: 22 }] }, 'fleet.json', fail);
  assert.deepEqual(v, { boards: [{ host: 'pi-1', port: 22 }] });
});

test('a bad field: the file, the path and what it must be, with what was given', () => {
  const boards = (port: unknown): unknown => ({ boards: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }, { host: 'c', port }] });
  assert.equal(refusal(FLEET, boards(70_000)), 'fleet.json: boards[2].port must be a whole number from 1 to 65535 (got 70000)');
  assert.equal(refusal(FLEET, boards(0)), 'fleet.json: boards[2].port must be a whole number from 1 to 65535 (got 0)');
  assert.equal(refusal(FLEET, boards(22.5)), 'fleet.json: boards[2].port must be a whole number from 1 to 65535 (got 22.5)');
  assert.equal(refusal(FLEET, boards('22')), 'fleet.json: boards[2].port must be a whole number from 1 to 65535 (got "22")');
  assert.equal(refusal(FLEET, { boards: [{ host: '', port: 22 }] }), 'fleet.json: boards[0].host must be a non-empty string (got "")');
});

test('a bad top-level value has no field in its message', () => {
  assert.equal(refusal(PORT, -1, 'board.json'), 'board.json: must be a whole number from 1 to 65535 (got -1)');
});

test('an unknown key: "unknown setting", with the known ones when the caller lists them', () => {
  const input = { boards: [{ host: 'pi', port: 22, colour: 'red' }] };
  assert.equal(refusal(FLEET, input), "fleet.json boards[0]: unknown setting 'colour'");
  assert.equal(refusal(FLEET, input, 'fleet.json', ['host', 'port']), "fleet.json boards[0]: unknown setting 'colour' (settings: host, port)");
  assert.equal(refusal(FLEET, { boards: [], extra: 1 }), "fleet.json: unknown setting 'extra'");
});

test('objectErrors: a key the object refuses is named with why it must be absent; a non-object says what it must be', () => {
  const limits = z.strictObject({ pullIntervalMs: PORT.optional() }, objectErrors('an object of gossip limits', 'it is not a gossip limit'));
  const gossip = z.strictObject({ limits });
  assert.equal(refusal(gossip, { limits: { pullIntervalMS: 5 } }, 'board.json gossip'), 'board.json gossip: limits.pullIntervalMS must be absent: it is not a gossip limit');
  assert.equal(refusal(gossip, { limits: [1] }, 'board.json gossip'), 'board.json gossip: limits must be an object of gossip limits (got [1])');
});

test('a union names the field of the option the value came closest to', () => {
  const endpoint = z.union([z.strictObject({ host: nonEmptyString(), port: PORT }), matching(/^serial:/, 'a serial:PATH endpoint')]);
  const list = z.strictObject({ orderers: z.array(endpoint) });
  assert.equal(refusal(list, { orderers: ['serial:/dev/ttyS0', { host: 'h', port: 99_999 }] }, 'board.json'),
    'board.json: orderers[1].port must be a whole number from 1 to 65535 (got 99999)');
  // Every option fails on a field (zod's own union issue then lists them all): the first option's first field.
  const link = z.union([z.strictObject({ host: nonEmptyString(), port: PORT }), z.strictObject({ path: nonEmptyString(), baud: PORT })]);
  assert.equal(refusal(z.strictObject({ links: z.array(link) }), { links: [{ host: 'h' }] }, 'board.json'),
    'board.json: links[0].port must be a whole number from 1 to 65535 (got undefined)');
  // No option came close (every one refused the value's type): the union's own message.
  assert.match(refusal(list, { orderers: [7] }, 'board.json'), /^board\.json: orderers\[0\] /);
});

test('wholeNumberIn takes digits in a string (INI files) and nothing else that is not a whole number', () => {
  const baud = wholeNumberIn(1, 4_000_000);
  assert.equal(parseConfig(baud, '115200', 'cmdline.txt', fail), 115_200);
  assert.equal(parseConfig(baud, 9600, 'cmdline.txt', fail), 9_600);
  for (const bad of ['', ' 9600', '9600 ', '9.6e3', '-1', '0x10', '0']) {
    assert.match(refusal(baud, bad, 'cmdline.txt'), /^cmdline\.txt: must be a whole number from 1 to 4000000 \(got /, JSON.stringify(bad));
  }
});

test('matching and mustBe word their refusals as "must be <what> (got ...)"', () => {
  const id = matching(/^[a-z]+$/, 'lower-case letters');
  assert.equal(parseConfig(id, 'abc', 'x', fail), 'abc');
  assert.equal(refusal(id, 'ABC', 'x'), 'x: must be lower-case letters (got "ABC")');
  assert.equal(refusal(id, 5, 'x'), 'x: must be lower-case letters (got 5)');
  assert.equal(refusal(z.boolean(mustBe('true or false')), 'yes', 'x'), 'x: must be true or false (got "yes")');
});

test('got: JSON for what JSON can show, the plain text otherwise', () => {
  assert.equal(got('a'), '(got "a")');
  assert.equal(got({ a: [1] }), '(got {"a":[1]})');
  assert.equal(got(undefined), '(got undefined)');
  assert.equal(got(null), '(got null)');
});

test('issueText words a raw zod issue the same way', () => {
  const r = PORT.safeParse(0);
  assert.equal(r.success, false);
  assert.equal(issueText('network.json mqtt', r.error!.issues[0]!), 'network.json mqtt: must be a whole number from 1 to 65535 (got 0)');
});
