// blocks.json as `edgepeer fabric verify --json` writes it, byte for byte what Fabric's ledgerutil verify
// writes (internal/ledgerutil/jsonrw: "[" line, each entry Go's json.Encoder line, "," lines between,
// "]" line), Go's default HTML escaping included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blocksJson } from '../../../../src/cli/commands/fabric.js';

test('blocks.json framing: an empty list is "[", "]"; entries one a line with "," lines between, as ledgerutil writes them', () => {
  assert.equal(blocksJson([]), '[\n]\n');
  assert.equal(blocksJson([
    { blockNum: 0, valid: false, errors: ['DataHash mismatch'] },
    { blockNum: 1, valid: false, errors: ['PreviousHash mismatch'] },
  ]), '[\n{"blockNum":0,"valid":false,"errors":["DataHash mismatch"]}\n,\n{"blockNum":1,"valid":false,"errors":["PreviousHash mismatch"]}\n]\n');
  assert.equal(blocksJson([{ blockNum: 8, valid: false, errors: ['transaction 0 has 3183 trailing bytes', 'DataHash mismatch'] }]),
    '[\n{"blockNum":8,"valid":false,"errors":["transaction 0 has 3183 trailing bytes","DataHash mismatch"]}\n]\n');
});

test('blocks.json escapes <, >, & and U+2028/U+2029 as Go\'s json.Encoder does (a subject name may hold them)', () => {
  const out = blocksJson([{ blockNum: 3, valid: false, errors: ['signature 0 by Org1MSP CN=a<b>&c\u2028d\u2029 "q" \\ is invalid'] }]);
  assert.equal(out, '[\n{"blockNum":3,"valid":false,"errors":["signature 0 by Org1MSP CN=a\\u003cb\\u003e\\u0026c\\u2028d\\u2029 \\"q\\" \\\\ is invalid"]}\n]\n');
  const parsed = JSON.parse(out) as { errors: string[] }[];
  assert.equal(parsed[0]!.errors[0], 'signature 0 by Org1MSP CN=a<b>&c\u2028d\u2029 "q" \\ is invalid', 'still JSON that reads back to the text');
});
