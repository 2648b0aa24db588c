// The seam between services (orderer, peer) and the links that carry their messages (MQTT, serial).
// A link moves opaque CBOR messages along routes; it knows nothing of blocks or signatures.

export type Service = 'deliver' | 'broadcast';

/** Who signed a request, as far as a link cares (an MQTT reply topic is named after its signer). */
export interface Requester {
  org: string;
  id: string;
}

export interface IncomingRequest {
  channel: string;
  service: Service;
  message: Uint8Array;
}

/**
 * The orderer's side of a link. Requests arrive for any channel (the orderer answers unknown channels
 * with NOT_FOUND); replies go to the route named in the signed request.
 */
export interface ServerLink {
  readonly name: string;
  /**
   * Block bytes per Deliver response this link wants at most (a slow or lossy line wants small ones, so
   * that a lost frame costs little); the orderer's own limit applies when absent or smaller.
   */
  readonly maxResponseBytes?: number;
  start(onRequest: (req: IncomingRequest) => void): Promise<void>;
  /**
   * Sends `message` to `replyTo`. Resolves once the link has taken it (for MQTT QoS 1: the broker's
   * PUBACK), which is the backpressure a Deliver session waits on.
   */
  reply(replyTo: string, message: Uint8Array): Promise<void>;
  /**
   * Whether `replyTo` is a route this link may send to for `channel` and a request signed by
   * `requester` (no publishing into foreign topics, nor into another member's replies).
   */
  replyRouteAllowed(channel: string, replyTo: string, requester: Requester): boolean;
  close(): Promise<void>;
}

export type LinkState = 'down' | 'connecting' | 'up';

export interface ClientLinkEvents {
  state: (state: LinkState) => void;
  message: (channel: string, message: Uint8Array) => void;
}

/** A board's or client's side of a link to one orderer endpoint. */
export interface ClientLink {
  readonly endpoint: string;
  readonly state: LinkState;
  /** The reply route for `channel` that this client listens on; goes into signed requests. */
  replyRoute(channel: string): string;
  /** Starts connecting (and reconnecting by itself); resolves once subscribed to replies for `channels`. */
  open(channels: readonly string[]): Promise<void>;
  send(channel: string, service: Service, message: Uint8Array): Promise<void>;
  /**
   * Logs in with `credentials` from the next connection on (the member's certificate was replaced); a
   * link without a login of its own (serial, or a username given on the command line) ignores it.
   */
  setCredentials?(credentials: { username: string; password: string }): void;
  on<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this;
  off<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this;
  close(): Promise<void>;
}
