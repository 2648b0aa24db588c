// A board checks its ledger's newest block at start (src/ledger/tipCheck.ts): a sound ledger passes; one
// whose tip block's bytes were damaged on disk makes `edgepeer peer` exit 1 naming the block and the
// damage, instead of starting on it and rejecting every block the orderer sends next.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { open } from 'lmdb';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { checkLedgerTip } from '../../src/ledger/tipCheck.js';
import { TestRig, initNetwork, killAllProcesses } from '../helpers/processes.js';
import { makeTestChannel } from '../helpers/testChannel.js';
import { withTimeout } from '../helpers/wait.js';

after(killAllProcesses);

const BLOCKS = 20;

test('tip check: a sound ledger passes; a damaged tip block stops the peer at start, named', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1 });
  const data = join(root, 'peer');
  const path = ledgerPath(data, net.channel);
  const ch = makeTestChannel({ channel: net.channel });
  const ledger = openLedger(path, { channel: net.channel });
  // One block per append: the tip is a segment of its own.
  const chain = [ch.genesis, ...ch.chain(BLOCKS)];
  for (let i = 0; i < chain.length; i++) ledger.append(chain, null, i, 1);
  checkLedgerTip(ledger);
  await ledger.close();

  // Flip the last byte of the tip's segment: inside the tip block (its signatures), under the recorded hash.
  const env = open(path, { noSubdir: true, maxDbs: 3, overlappingSync: false });
  const segments = env.openDB<Uint8Array, number>('segments', { encoding: 'binary' });
  const last = [...segments.getKeys({ reverse: true, limit: 1 })][0]!;
  const seg = Buffer.from(segments.getBinary(last)!);
  seg[seg.length - 1] = seg[seg.length - 1]! ^ 0xff;
  await segments.put(last, seg);
  await env.close();

  const peer = rig.spawn(['peer', '--network', net.dir, '--board', net.boards[0]!.id, '--data', data, '--mqtt', 'mqtt://127.0.0.1:1'], { name: 'peer' });
  const e = await withTimeout(peer.exited, 'the peer to refuse its ledger');
  assert.equal(e.code, 1, peer.describe());
  assert.match(peer.stderr, new RegExp(`error: ledger .*: its newest block ${BLOCKS} (does not hold the data its data hash names|hashes to [0-9a-f]{64}, not the recorded last hash [0-9a-f]{64}); run `));
});
