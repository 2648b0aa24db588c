// `edgepeer gateway`'s endpoint option: HOST:PORT, or HOST:PORT=NAME for a node whose TLS certificate
// carries another name than the one dialled; anything else is refused before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { parseFabricEndpoint } from '../../../../src/cli/commands/gateway.js';

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
