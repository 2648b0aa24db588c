// The sending side of the MQTT loopback limit in `npm run bench`: an embedded Aedes broker and the
// orderer's own MqttServerLink in one process (as the orderer runs them). When a client's first request
// arrives, it replies `count` messages of `bytes` each on that client's reply route, paced as a Deliver
// session paces itself (docs/protocol.md, Deliver flow control): at most `window` messages sent and not
// yet acknowledged by the client, each also awaiting the broker's PUBACK. The client's later requests
// are its acknowledgements: a u32 (big-endian) count of messages received. The broker's PUBACK alone
// would not bound what waits for the client: Aedes acknowledges a publish once it has written it to the
// subscriber's socket, so on a loaded machine the client's queue grew past the embedded broker's
// slow-reader limit (maxQueuedBytesPerClient, 16 MiB) and the broker cut the client off, which the bench
// saw as a stall. The parent stops it by PID.
import { startEmbeddedBroker } from '../src/transport/mqtt/embeddedBroker.js';
import { MqttServerLink } from '../src/transport/mqtt/mqttServerLink.js';
import { MQTT_LIMIT_ACK_BYTES as ACK_BYTES } from './benchLimits.js';

async function main(): Promise<void> {
  const [countText, bytesText, windowText, replyTo] = process.argv.slice(2);
  const count = Number(countText);
  const bytes = Number(bytesText);
  const window = Number(windowText);
  const broker = await startEmbeddedBroker({ port: 0 });
  const link = new MqttServerLink({ endpoint: { url: broker.url } });
  let acked = 0;
  /** Workers waiting for the client's acknowledgements to open the window again. */
  let waiting: (() => void)[] = [];
  const go = new Promise<void>((resolve) => void link.start((req) => {
    if (req.message.length === ACK_BYTES) {
      acked = Math.max(acked, new DataView(req.message.buffer, req.message.byteOffset, ACK_BYTES).getUint32(0));
      const wake = waiting;
      waiting = [];
      for (const w of wake) w();
      return;
    }
    resolve();
  }).then(() => {
    process.stdout.write(`${JSON.stringify({ url: broker.url })}\n`);
  }));
  await go;
  const payload = new Uint8Array(bytes).fill(7);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      while (next - acked >= window) await new Promise<void>((resolve) => { waiting.push(resolve); });
      next++;
      await link.reply(replyTo!, payload);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  // A PUBACK means the broker has the message, not that the subscriber does: stay up until the
  // measuring side has counted everything and stops this process.
}

main().catch((err: unknown) => {
  process.stderr.write(`benchMqttSource: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
