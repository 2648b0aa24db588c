// `edgepeer gateway`'s endpoint option: HOST:PORT, or HOST:PORT=NAME for a node whose TLS certificate
// carries another name than the one dialled; anything else is refused before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { parseFabricEndpoint } from '../../src/cli/commands/gateway.js';
import { retryDelayMs } from '../../src/gateway/retryDelay.js';

test('parseFabricEndpoint takes HOST:PORT and HOST:PORT=NAME', () => {
  assert.deepEqual(parseFabricEndpoint('orderer0.example.com:7050'), { address: 'orderer0.example.com:7050' });
  assert.deepEqual(parseFabricEndpoint('127.0.0.1:7050=orderer0.example.com'), { address: '127.0.0.1:7050', serverNameOverride: 'orderer0.example.com' });
  assert.deepEqual(parseFabricEndpoint('[::1]:7050'), { address: '[::1]:7050' });
});

test('parseFabricEndpoint refuses what is not an endpoint', () => {
  for (const bad of ['orderer0.example.com', ':7050', 'host:0', 'host:70500', 'host:7050=', 'host:7050=a=b', 'grpcs://host:7050', 'host:port']) {
    assert.throws(() => parseFabricEndpoint(bad), InvalidArgumentError, bad);
  }
});

test('retryDelayMs: exponential, capped, the upper half random, never below half the step', () => {
  const p = { baseDelayMs: 100, factor: 2, maxDelayMs: 10_000, jitterRatio: 0.5 };
  assert.equal(retryDelayMs(1, p, () => 0), 50);
  assert.equal(retryDelayMs(1, p, () => 0.999999), 100);
  assert.equal(retryDelayMs(4, p, () => 0), 400);
  assert.equal(retryDelayMs(40, p, () => 0), 5_000, 'capped');
  assert.equal(retryDelayMs(1000, p, () => 0.999999), 10_000, 'no overflow past the cap');
  assert.equal(retryDelayMs(3, { ...p, jitterRatio: 0 }, () => 0.7), 400, 'no jitter: the full step');
});
