// `edgepeer health` judges the stream, not only the link (issue 12 §7): a board whose deliver client
// gave up, or that has heard nothing from the orderer for longer than the silence bound while pulling,
// is unhealthy even with its link up, and so is one that found a fork; a follower (not pulling) and a
// fresh stream are not judged by the stream.
// The metrics are a real peer registry's, read back through the exposition text as `health` reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeBoardHealth } from '../../../src/observability/boardHealth.js';
import { type PeerMetrics, createMetrics } from '../../../src/observability/metrics.js';
import { parseMetricsText } from '../../../src/observability/metricsText.js';

const CHANNEL = 'ch';
const SILENCE_MS = 10_000;
const NOW_MS = 1_800_000_000_000;

async function judge(set: (m: PeerMetrics) => void): Promise<ReturnType<typeof judgeBoardHealth>> {
  const m = createMetrics('peer');
  m.ledgerHeight.set({ channel: CHANNEL }, 10);
  m.ordererLinkUp.set({ endpoint: 'mqtt://o:1883' }, 1);
  set(m);
  return judgeBoardHealth(parseMetricsText(await m.registry.metrics()), { requireLink: true, maxDeliverSilenceMs: SILENCE_MS, nowMs: NOW_MS });
}

test('health: link up and a recent response is healthy; a stopped client or a silent stream while pulling is not', async () => {
  const recent = await judge((m) => {
    m.deliverActive.set({ channel: CHANNEL }, 1);
    m.deliverLastResponse.set({ channel: CHANNEL }, (NOW_MS - SILENCE_MS / 2) / 1000);
  });
  assert.equal(recent.healthy, true, recent.reason ?? '');

  const stopped = await judge((m) => {
    m.deliverActive.set({ channel: CHANNEL }, 0);
    m.deliverStopped.set({ channel: CHANNEL }, 1);
  });
  assert.equal(stopped.healthy, false);
  assert.match(stopped.reason!, /deliver client of channel ch has stopped for good/);

  const silent = await judge((m) => {
    m.deliverActive.set({ channel: CHANNEL }, 1);
    m.deliverLastResponse.set({ channel: CHANNEL }, (NOW_MS - 3 * SILENCE_MS) / 1000);
  });
  assert.equal(silent.healthy, false);
  assert.match(silent.reason!, /nothing from the orderer on channel ch for 30 s/);

  const follower = await judge((m) => {
    m.deliverActive.set({ channel: CHANNEL }, 0);
    m.deliverLastResponse.set({ channel: CHANNEL }, (NOW_MS - 3 * SILENCE_MS) / 1000);
  });
  assert.equal(follower.healthy, true, 'a board not pulling (a gossip follower) is not judged by the stream');
});

test('health: a board that found a fork is unhealthy with the channel and block, though its link is up and it is not pulling', async () => {
  const before = await judge((m) => m.forkDetected.set({ channel: CHANNEL }, 0));
  assert.equal(before.healthy, true, before.reason ?? '');
  const forked = await judge((m) => {
    m.deliverActive.set({ channel: CHANNEL }, 0);
    m.forkDetected.set({ channel: CHANNEL }, 1);
    m.forkBlock.set({ channel: CHANNEL }, 41);
  });
  assert.equal(forked.healthy, false);
  assert.match(forked.reason!, /^fork detected on channel ch at block 41: the orderer signed a block that conflicts with this board's chain/);
});
