// The commands' option parsers (src/cli/options.ts): numbers refused rather than guessed at (1e3, -1,
// 0x10, '' and the like), ports bounded, lower bounds named, a --data that is a file or a broken path
// said so before anything is made, and the MQTT endpoint built from its flags (the password from the
// environment when no flag gives it). What the commands print with them: test/integration/cliErrors.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { atLeast, checkDataFolder, collect, decimalNumber, mqttEndpoint, portNumber, wholeNumber } from '../../../src/cli/options.js';

const GUESSES = ['', ' 1', '1 ', '1.5', '1e3', '-1', '+1', '0x10', 'Infinity', 'NaN', 'one'];
const invalid = (message: RegExp) => (e: unknown): boolean => e instanceof InvalidArgumentError && message.test(e.message);

test('wholeNumber takes whole decimal numbers only, up to the largest safe integer', () => {
  assert.equal(wholeNumber('0'), 0);
  assert.equal(wholeNumber('007'), 7);
  assert.equal(wholeNumber(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  for (const v of [...GUESSES, String(Number.MAX_SAFE_INTEGER + 2)]) assert.throws(() => wholeNumber(v), invalid(/is not a whole number/), JSON.stringify(v));
});

test('decimalNumber takes fractions too, written plainly', () => {
  assert.equal(decimalNumber('0.5'), 0.5);
  assert.equal(decimalNumber('.25'), 0.25);
  assert.equal(decimalNumber('12.'), 12);
  assert.equal(decimalNumber('12'), 12);
  for (const v of GUESSES.filter((g) => g !== '1.5')) assert.throws(() => decimalNumber(v), invalid(/is not a decimal number/), JSON.stringify(v));
  assert.throws(() => decimalNumber('.'), invalid(/is not a decimal number/));
});

test('portNumber: 0 to 65535', () => {
  assert.equal(portNumber('0'), 0);
  assert.equal(portNumber('65535'), 65_535);
  for (const v of ['65536', '99999', ...GUESSES]) assert.throws(() => portNumber(v), invalid(/is not a port \(a whole number from 0 to 65535\)/), JSON.stringify(v));
});

test('atLeast names the bound; collect gathers repeated flags in order', () => {
  const boards = atLeast(1, wholeNumber);
  assert.equal(boards('1'), 1);
  assert.throws(() => boards('0'), invalid(/^'0' is less than 1$/));
  assert.throws(() => boards('x'), invalid(/is not a whole number/));
  assert.deepEqual(collect('b', collect('a', undefined)), ['a', 'b']);
});

test('checkDataFolder: a missing folder is fine unless it must exist; a file, or a path through a file, is named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-options-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'README.md');
  writeFileSync(file, 'not a folder');
  checkDataFolder(dir, '--data', true);
  checkDataFolder(join(dir, 'new'), '--data', false);
  assert.throws(() => checkDataFolder(join(dir, 'new'), '--data', true), /^Error: no ledger in .*new: --data names no such folder$/);
  assert.throws(() => checkDataFolder(file, '--data', false), new RegExp(`^Error: --data ${file}: is a file, not a data folder$`));
  assert.throws(() => checkDataFolder(join(file, 'inside'), '--data', false), /--data .*README\.md\/inside: cannot be used as a data folder \(ENOTDIR\)/);
});

test('mqttEndpoint: the flags given and no others; the password from EDGEPEER_MQTT_PASSWORD unless a flag gives one; protocol 4 or 5', (t) => {
  const saved = process.env['EDGEPEER_MQTT_PASSWORD'];
  t.after(() => {
    if (saved === undefined) delete process.env['EDGEPEER_MQTT_PASSWORD'];
    else process.env['EDGEPEER_MQTT_PASSWORD'] = saved;
  });
  delete process.env['EDGEPEER_MQTT_PASSWORD'];
  assert.deepEqual(mqttEndpoint('mqtt://h:1883', {}), { url: 'mqtt://h:1883' });
  assert.deepEqual(mqttEndpoint('mqtts://h:8883', { mqttCa: 'ca.pem', mqttCert: 'c.pem', mqttKey: 'k.pem', mqttUsername: 'u', mqttProtocol: 5 }),
    { url: 'mqtts://h:8883', caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem', username: 'u', protocolVersion: 5 });
  process.env['EDGEPEER_MQTT_PASSWORD'] = 'from-env';
  assert.equal(mqttEndpoint('mqtt://h', {}).password, 'from-env');
  assert.equal(mqttEndpoint('mqtt://h', { mqttPassword: 'from-flag' }).password, 'from-flag');
  assert.throws(() => mqttEndpoint('mqtt://h', { mqttProtocol: 3 }), invalid(/--mqtt-protocol must be 4 or 5/));
});
