// The sending side of the MQTT loopback limit in `npm run bench`: an embedded Aedes broker and the
// orderer's own MqttServerLink in one process (as the orderer runs them). When a client's first request
// arrives, it replies `count` messages of `bytes` each on that client's reply route, at most `window`
// awaiting the broker's PUBACK, exactly as a Deliver session paces itself. The parent stops it by PID.
import { startEmbeddedBroker } from '../src/transport/mqtt/embeddedBroker.js';
import { MqttServerLink } from '../src/transport/mqtt/mqttServerLink.js';

async function main(): Promise<void> {
  const [countText, bytesText, windowText, replyTo] = process.argv.slice(2);
  const count = Number(countText);
  const bytes = Number(bytesText);
  const window = Number(windowText);
  const broker = await startEmbeddedBroker({ port: 0 });
  const link = new MqttServerLink({ endpoint: { url: broker.url } });
  const go = new Promise<void>((resolve) => void link.start(() => resolve()).then(() => {
    process.stdout.write(`${JSON.stringify({ url: broker.url })}\n`);
  }));
  await go;
  const payload = new Uint8Array(bytes).fill(7);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
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
