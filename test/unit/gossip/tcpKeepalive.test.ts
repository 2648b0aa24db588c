// TCP keepalive on gossip connections, both ways (src/gossip/tcpTransport.ts, docs/protocol.md §12b.1):
// a member that vanishes without a FIN (power cut, pulled cable) leaves a connection that only keepalive
// probes reveal. What the kernel was told is read back from the kernel itself: `ss -o` prints a socket's
// keepalive timer, which exists only when SO_KEEPALIVE is on and never runs longer than its idle time
// (TCP_KEEPIDLE, from tcpKeepaliveMs). Linux's default is off, and 7,200 s when on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { systemClock } from '../../../src/config/clock.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { type GossipTransport, type GossipTransportLimits, startTcpTransport } from '../../../src/gossip/tcpTransport.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { withTimeout } from '../../helpers/wait.js';

const EVENT_TIMEOUT_MS = 10_000;
/** Each side its own value, so the test sees each side's own setting. */
const LISTENER_KEEPALIVE_MS = 9_000;
const DIALLER_KEEPALIVE_MS = 4_000;
const ssMissing = 'ss is not installed (apt-get install iproute2)';

function ssAvailable(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function transport(limits: Partial<GossipTransportLimits>, onMessage: (m: Uint8Array) => boolean = () => true): Promise<GossipTransport> {
  return startTcpTransport({ listen: '127.0.0.1:0', limits: { ...gossipDefaults, ...limits }, clock: systemClock, log: silentLogger(), onMessage });
}

const portOf = (t: GossipTransport): number => Number(t.endpoint.split(':')[1]);

/** Seconds left on the keepalive timer of the established loopback socket from `local` to `peer`, or null when it has none. */
function keepaliveSeconds(local: number, peer: number): number | null {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${local} and dport = :${peer} )`], { encoding: 'utf8' });
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one socket ${local} -> ${peer}:\n${out}`);
  const m = /timer:\(keepalive,([\d.]+)(ms|sec|min),\d+\)/.exec(lines[0]!);
  if (m === null) return null;
  const unit = m[2] === 'ms' ? 0.001 : m[2] === 'min' ? 60 : 1;
  return Number(m[1]) * unit;
}

test('both ends of a gossip connection probe with TCP keepalive after tcpKeepaliveMs of silence', async (t) => {
  if (!ssAvailable()) return t.skip(ssMissing);
  let arrived: () => void = () => undefined;
  const listener = await transport({ tcpKeepaliveMs: LISTENER_KEEPALIVE_MS }, () => { arrived(); return true; });
  const dialler = await transport({ tcpKeepaliveMs: DIALLER_KEEPALIVE_MS });
  t.after(async () => {
    await dialler.stop();
    await listener.stop();
  });
  const frame = new Promise<void>((resolve) => { arrived = resolve; });
  assert.equal(dialler.send(listener.endpoint, Uint8Array.of(1, 2, 3)), true);
  await withTimeout(frame, 'a frame over the dialled connection', EVENT_TIMEOUT_MS);

  // The dialler's socket: its local port is an ephemeral one, its peer the listener's.
  const lines = execFileSync('ss', ['-tnH', 'state', 'established', `( dport = :${portOf(listener)} )`], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, lines.join('\n'));
  const ephemeral = Number(/127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+/.exec(lines[0]!)?.[1]);
  assert.ok(Number.isInteger(ephemeral), lines[0]);

  const outbound = keepaliveSeconds(ephemeral, portOf(listener));
  const accepted = keepaliveSeconds(portOf(listener), ephemeral);
  assert.ok(outbound !== null, 'the dialled connection has a keepalive timer (SO_KEEPALIVE on)');
  assert.ok(accepted !== null, 'the accepted connection has a keepalive timer (SO_KEEPALIVE on)');
  // Never longer than the idle time it was given (the kernel's own default would be 7,200 s).
  assert.ok(outbound <= DIALLER_KEEPALIVE_MS / 1000, `dialler: ${outbound} s left, tcpKeepaliveMs ${DIALLER_KEEPALIVE_MS}`);
  assert.ok(accepted <= LISTENER_KEEPALIVE_MS / 1000, `listener: ${accepted} s left, tcpKeepaliveMs ${LISTENER_KEEPALIVE_MS}`);
});
