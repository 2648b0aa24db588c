// Two gossip nodes with empty bootstrap lists find each other through multicast discovery alone (real
// UDP multicast on loopback, real TCP, real LMDB), and a static follower learns its org leader from the
// leader's ALIVE, which it received that way. Without discovery neither would ever hear of the other.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certificateValidityMs } from '../../../src/network/networkDefaults.js';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { StaticElection } from '../../../src/gossip/election.js';
import { GossipNode } from '../../../src/gossip/gossipNode.js';
import { type MulticastDiscovery, multicastDiscovery } from '../../../src/gossip/multicastDiscovery.js';
import { type GossipMetricsSink, noGossipMetrics } from '../../../src/gossip/seams.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { Signer } from '../../../src/protocol/envelope.js';
import { type GossipBoard, type GossipBoardSite, startGossipBoard } from '../../helpers/gossipBoard.js';
import { LOOPBACK, firstOf, freeUdpPort, loopbackMulticastProblem } from '../../helpers/multicastProbe.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const GROUP = '239.255.71.211';
/** Fast ALIVEs so that discovery shows within a fraction of the deadline. */
const LIMITS = { aliveIntervalMs: 100, aliveExpirationMs: 2_000 };
/** Nothing listens here: the leader's deliver client retries against it, and that is all it does. */
const NO_ORDERER_URL = 'mqtt://127.0.0.1:1';
const CERTIFICATE_BACKDATE_MS = 3_600_000;

test('boards with no bootstrap list meet by multicast; a static follower names its leader', { timeout: 30_000 }, async (t) => {
  const problem = await loopbackMulticastProblem(GROUP);
  if (problem !== null) {
    console.log(`SKIP: ${problem}`);
    t.skip(problem);
    return;
  }
  const tc = makeTestChannel();
  const now = Date.now();
  const keys = generateKeyPair();
  const second: Signer = {
    certificate: issueCertificate(
      { id: 'board2', org: 'org1', role: 'peer', publicKey: keys.publicKeyRaw, notBefore: now - CERTIFICATE_BACKDATE_MS, notAfter: now + certificateValidityMs },
      tc.orgRoots.get('org1')!.privateKey,
    ),
    privateKey: keys.privateKey,
  };
  const root = await mkdtemp(join(tmpdir(), 'edgepeer-lan-'));
  const port = await freeUdpPort();
  const boards: GossipBoard[] = [];
  t.after(async () => {
    // Every board's stop runs (each runs all of its steps), and the folder goes, even when one fails.
    const errors: unknown[] = [];
    for (const b of boards.reverse()) await b.stop().catch((err: unknown) => { errors.push(err); });
    await rm(root, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'boards failed to stop');
  });

  const signers = new Map([[tc.boardSigner.certificate.id, tc.boardSigner], [second.certificate.id, second]]);
  // No orderer: the leader's deliver client retries against NO_ORDERER_URL, and that is all it does.
  const site: GossipBoardSite = {
    genesis: tc.genesis, channelState: tc.state, brokerUrl: NO_ORDERER_URL, dir: root, signer: (id) => signers.get(id)!,
  };
  const discoveries: MulticastDiscovery[] = [];
  const start = async (signer: Signer, orgLeader: boolean, metrics: GossipMetricsSink): Promise<GossipNode> => {
    const id = signer.certificate.id;
    const discover = multicastDiscovery({ group: GROUP, port, interface: LOOPBACK, log: silentLogger() });
    const b = await startGossipBoard(site, id, {
      bootstrap: [], listen: `${LOOPBACK}:0`, limits: LIMITS, seed: boards.length + 1, election: new StaticElection(id, orgLeader), metrics,
      discovery: async (onMessage) => {
        const d = await discover(onMessage);
        discoveries.push(d);
        return d;
      },
    });
    boards.push(b);
    return b.node;
  };

  let leaderSees: () => void = () => undefined;
  let followerSees: () => void = () => undefined;
  let followerLeader: (leader: string) => void = () => undefined;
  const leaderMet = firstOf<void>((done) => { leaderSees = done; }, 'board1 hears of board2');
  const followerMet = firstOf<void>((done) => { followerSees = done; }, 'board2 hears of board1');
  const named = firstOf<string>((done) => { followerLeader = done; }, 'board2 names a leader');
  const leader = await start(tc.boardSigner, true, { ...noGossipMetrics, liveMembers: (n) => { if (n >= 1) leaderSees(); } });
  assert.equal(leader.role(), 'leader', 'a static leader leads from the start');
  const follower = await start(second, false, {
    ...noGossipMetrics,
    liveMembers: (n) => { if (n >= 1) followerSees(); },
    leader: (_org, l) => { if (l !== null) followerLeader(l); },
  });
  await Promise.all([leaderMet, followerMet]);
  assert.deepEqual(leader.liveMembers().map((m) => m.id), ['board2']);
  assert.deepEqual(follower.liveMembers().map((m) => m.id), ['board1']);
  assert.equal(await named, 'board1');
  assert.equal(follower.leader, 'board1');
  assert.equal(follower.role(), 'follower');
  assert.ok(discoveries.every((d) => d.sendErrors === 0 && d.oversizeNotSent === 0), 'ALIVEs went out whole');
});
