// The lending MQTT stream against a raw TCP server: a packet length from the header is checked before
// anything is allocated for it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { FramedMqttSocket } from '../../../../src/transport/mqtt/framedSocket.js';

test('a header announcing a 256 MiB packet ends the connection without allocating it', async (t) => {
  const server = net.createServer((s) => {
    // PUBLISH with the largest remaining length MQTT can express, and nothing after it.
    s.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as net.AddressInfo).port;
  const before = process.memoryUsage().arrayBuffers;
  const socket = new FramedMqttSocket({ host: '127.0.0.1', port, readBufferBytes: 64 * 1024, ringBytes: 1 << 20, maxPacketBytes: 4 << 20 });
  t.after(() => { socket.destroy(); });
  socket.pipe(new Writable({ write: (_c, _e, done) => done() }));
  const [err] = await once(socket, 'error') as [Error];
  assert.match(err.message, /MQTT packet of 268435460 bytes exceeds the limit of 4194304 bytes/);
  const grewBytes = process.memoryUsage().arrayBuffers - before;
  assert.ok(grewBytes < 16 << 20, `external memory grew by ${grewBytes} bytes`);
});
