// An orderer whose store disagrees with its in-memory head exits non-zero, saying why, instead of
// refusing every later block for ever (issue 12 §7): a block is appended to its ledger behind its back
// (another handle on the file, as a second writer or a restored copy would), then a transaction makes it
// cut the next block; the orderer must stop with code 1 within a bound, naming the channel and the cause.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeBlock } from '../../src/channel/blocks.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { blockHash } from '../../src/protocol/blockHash.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { TestRig, initNetwork, killAllProcesses } from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';

after(killAllProcesses);

/** The orderer cuts within its batch timeout; this much more for the submit and the stop. */
const EXIT_BOUND_MS = 20_000;

test('orderer store failure: a ledger changed behind the orderer\'s back makes it exit 1 naming why, not hang', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1, maxMessageCount: 1 });
  const data = join(root, 'orderer');
  const { proc: orderer, ready } = await rig.orderer(['--network', net.dir, '--data', data, '--mqtt-port', '0']);

  const genesis = new Uint8Array(readFileSync(join(net.dir, 'channels', net.channel, 'genesis.block')));
  const other = openLedger(ledgerPath(data, net.channel), { channel: net.channel });
  const intruder = makeBlock(1, blockHash(genesis), [], 0, [{ index: 0, key: generateKeyPair().privateKey }]);
  other.append([intruder.bytes], [intruder.hash], 0, 1);
  await other.close();

  const submit = rig.spawn(['submit', '--network', net.dir, '--mqtt', ready.mqtt, '--count', '1', '--size', '16', '--json'], { name: 'submit' });
  const e = await withTimeout(orderer.exited, 'the orderer to exit', EXIT_BOUND_MS);
  assert.equal(e.code, 1, orderer.describe());
  assert.match(orderer.stderr, new RegExp(`error: the orderer stopped: channel ${net.channel}: block 1: the stored height is 2`));
  await submit.kill('SIGKILL');
});
