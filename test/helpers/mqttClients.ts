// Raw mqtt.js clients for the broker access tests (an attacker's view of a broker: logins, subscriptions,
// publishes), every one ended by endAll().
import { type IClientOptions, type MqttClient, connectAsync } from 'mqtt';
import { withTimeout } from './wait.js';

/** SUBACK return code of a refused subscription (MQTT 3.1.1 §3.9.3). */
export const SUBACK_FAILURE = 128;
/** A broker that neither accepts nor refuses a login within this long is broken, not slow. */
const CONNECT_TIMEOUT_MS = 5_000;

export class MqttTestClients {
  private readonly clients: MqttClient[] = [];

  /** `url`: the broker's, read at each connect (a test may start its broker after making this). */
  constructor(private readonly url: () => string) {}

  /** A connected MQTT 3.1.1 client with a clean session and no reconnecting. */
  async connect(opts: IClientOptions): Promise<MqttClient> {
    const c = await connectAsync(this.url(), { reconnectPeriod: 0, clean: true, protocolVersion: 4, connectTimeout: CONNECT_TIMEOUT_MS, ...opts });
    this.clients.push(c);
    return c;
  }

  /** Why the broker refused a login with `opts`, or 'accepted'. */
  async refusal(opts: IClientOptions): Promise<string> {
    try {
      (await this.connect(opts)).end(true);
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  }

  endAll(): void {
    for (const c of this.clients.splice(0)) c.end(true);
  }
}

/** The QoS the broker granted for `filter` (128: refused; mqtt.js rejects the promise of a refused subscription). */
export async function grantedQos(c: MqttClient, filter: string): Promise<number> {
  try {
    return (await c.subscribeAsync(filter, { qos: 1 }))[0]!.qos;
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted === undefined) throw err;
    return granted[0]!;
  }
}

/** The client's connection closing (the broker cut it off), or a timeout error naming `what`. */
export function closed(c: MqttClient, what: string): Promise<void> {
  if (!c.connected) return Promise.resolve();
  return withTimeout(new Promise((resolve) => c.once('close', () => resolve())), what);
}
