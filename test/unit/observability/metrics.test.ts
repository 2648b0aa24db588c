import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGossipMetrics } from '../../../src/observability/gossipMetrics.js';
import { createMetrics, startMetricsServer } from '../../../src/observability/metrics.js';

/** The sample line of `name` with exactly these labels, as Prometheus' text format writes it. */
function sample(text: string, name: string, labels: string): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

test('orderer metrics are served on /metrics with their labels and values', async () => {
  const m = createMetrics('orderer');
  const server = await startMetricsServer(m.registry, 0);
  try {
    assert.ok(server.port > 0, 'an ephemeral port was bound');
    m.ledgerHeight.set({ channel: 'ch1' }, 7);
    m.blocksCommitted.inc({ channel: 'ch1' }, 3);
    m.blocksRejected.inc({ channel: 'ch1', reason: 'bad_signature' });
    m.deliverStreamsOpen.inc();
    m.deliverStreamsOpen.inc();
    m.deliverRequests.inc({ status: 'SUCCESS' });
    m.deliverRequests.inc({ status: 'FORBIDDEN' }, 2);
    m.broadcastRequests.inc({ status: 'SUCCESS' });
    m.blocksCut.inc({ channel: 'ch1' }, 5);
    m.linkMessagesDropped.inc({ reason: 'malformed' });

    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();

    assert.equal(sample(text, 'edgepeer_ledger_height', 'channel="ch1"'), 7);
    assert.equal(sample(text, 'edgepeer_blocks_committed_total', 'channel="ch1"'), 3);
    assert.equal(sample(text, 'edgepeer_blocks_rejected_total', 'channel="ch1",reason="bad_signature"'), 1);
    assert.equal(sample(text, 'edgepeer_deliver_streams_open', ''), 2);
    assert.equal(sample(text, 'edgepeer_deliver_requests_total', 'status="SUCCESS"'), 1);
    assert.equal(sample(text, 'edgepeer_deliver_requests_total', 'status="FORBIDDEN"'), 2);
    assert.equal(sample(text, 'edgepeer_broadcast_requests_total', 'status="SUCCESS"'), 1);
    assert.equal(sample(text, 'edgepeer_blocks_cut_total', 'channel="ch1"'), 5);
    assert.equal(sample(text, 'edgepeer_link_messages_dropped_total', 'reason="malformed"'), 1);
    assert.match(text, /^# TYPE edgepeer_ledger_height gauge$/m);
    assert.match(text, /^# TYPE edgepeer_blocks_committed_total counter$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m, 'default process metrics are collected');
    assert.doesNotMatch(text, /edgepeer_orderer_link_up/, 'peer-only metrics are not on an orderer');
  } finally {
    await server.close();
  }
});

test('peer metrics include the orderer link gauge and not the orderer-only metrics', async () => {
  const m = createMetrics('peer');
  m.ordererLinkUp.set({ endpoint: 'mqtt://127.0.0.1:1883' }, 1);
  m.ledgerHeight.set({ channel: 'ch1' }, 2);
  const text = await m.registry.metrics();
  assert.equal(sample(text, 'edgepeer_orderer_link_up', 'endpoint="mqtt://127.0.0.1:1883"'), 1);
  assert.equal(sample(text, 'edgepeer_ledger_height', 'channel="ch1"'), 2);
  assert.doesNotMatch(text, /edgepeer_deliver_streams_open|edgepeer_blocks_cut_total/);
});

test('each createMetrics has its own registry, so two in one process neither clash nor share values', async () => {
  const a = createMetrics('peer');
  const b = createMetrics('peer');
  a.blocksCommitted.inc({ channel: 'x' }, 4);
  assert.equal(sample(await a.registry.metrics(), 'edgepeer_blocks_committed_total', 'channel="x"'), 4);
  assert.equal(sample(await b.registry.metrics(), 'edgepeer_blocks_committed_total', 'channel="x"'), undefined);
});

test('the metrics server answers 404 off /metrics and to other methods, and stops listening on close', async () => {
  const m = createMetrics('orderer');
  const server = await startMetricsServer(m.registry, 0);
  const base = `http://127.0.0.1:${server.port}`;
  try {
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metricsx`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 404);
    assert.equal((await fetch(`${base}/metrics?name=x`)).status, 200);
  } finally {
    await server.close();
  }
  await assert.rejects(fetch(`${base}/metrics`), 'nothing listens after close()');
});

test('gossip metrics: one leader series per org that follows changes, blocks by origin, duplicates, messages and bytes, live members', async () => {
  const m = createMetrics('peer');
  const g = createGossipMetrics(m.registry);
  assert.doesNotMatch(await m.registry.metrics(), /^edgepeer_gossip_leader\{/m, 'no leader series before anyone leads');

  g.leader('org1', 'org1-board1');
  g.leader('org2', 'org2-board3');
  let text = await m.registry.metrics();
  assert.equal(sample(text, 'edgepeer_gossip_leader', 'org="org1",leader="org1-board1"'), 1);
  assert.equal(sample(text, 'edgepeer_gossip_leader', 'org="org2",leader="org2-board3"'), 1);

  g.leader('org1', 'org1-board2');
  text = await m.registry.metrics();
  assert.equal(sample(text, 'edgepeer_gossip_leader', 'org="org1",leader="org1-board1"'), undefined, 'the previous leader series is removed');
  assert.equal(sample(text, 'edgepeer_gossip_leader', 'org="org1",leader="org1-board2"'), 1);
  g.leader('org1', 'org1-board2');
  g.leader('org2', null);
  text = await m.registry.metrics();
  assert.equal(text.split('\n').filter((l) => l.startsWith('edgepeer_gossip_leader{')).length, 1, 'org2 has no series while nobody leads');

  g.blocksReceived('orderer', 120);
  g.blocksReceived('push', 3400);
  g.blocksReceived('push', 1);
  g.blocksReceived('pull', 12);
  g.blocksReceived('catchup', 0);
  g.duplicates(7);
  g.message('out', 'blocks', 1000);
  g.message('out', 'blocks', 500);
  g.message('in', 'alive', 180);
  g.message('in', 'range_request', 64);
  g.liveMembers(5);
  g.liveMembers(3);
  text = await m.registry.metrics();
  assert.equal(sample(text, 'edgepeer_gossip_blocks_received_total', 'origin="orderer"'), 120);
  assert.equal(sample(text, 'edgepeer_gossip_blocks_received_total', 'origin="push"'), 3401);
  assert.equal(sample(text, 'edgepeer_gossip_blocks_received_total', 'origin="pull"'), 12);
  assert.equal(sample(text, 'edgepeer_gossip_duplicate_blocks_total', ''), 7);
  assert.equal(sample(text, 'edgepeer_gossip_messages_total', 'direction="out",kind="blocks"'), 2);
  assert.equal(sample(text, 'edgepeer_gossip_bytes_total', 'direction="out",kind="blocks"'), 1500);
  assert.equal(sample(text, 'edgepeer_gossip_messages_total', 'direction="in",kind="alive"'), 1);
  assert.equal(sample(text, 'edgepeer_gossip_bytes_total', 'direction="in",kind="alive"'), 180);
  assert.equal(sample(text, 'edgepeer_gossip_bytes_total', 'direction="in",kind="range_request"'), 64);
  assert.equal(sample(text, 'edgepeer_gossip_live_members', ''), 3);
  assert.match(text, /^# TYPE edgepeer_gossip_blocks_received_total counter$/m);
  assert.match(text, /^# TYPE edgepeer_gossip_leader gauge$/m);
  assert.doesNotMatch(text, /^edgepeer_gossip_\w+ NaN/m);
});
