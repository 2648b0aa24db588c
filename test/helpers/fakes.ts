// Test doubles for the seams the orderer and peer core sit on: a manual Clock, a ServerLink that records
// replies, and a ClientLink the test drives (state changes, incoming messages) and inspects (frames sent).
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../src/config/clock.js';
import type {
  ClientLink, ClientLinkEvents, IncomingRequest, LinkState, ServerLink, Service,
} from '../../src/transport/link.js';

/** A test waiting for an event gives up after this long, so a missing event fails instead of hanging. */
export const EVENT_WAIT_LIMIT_MS = 2_000;
/** Event-loop turns `drainImmediates` lets pass: enough for the promise chains one timer starts to run out. */
const DRAIN_TURNS = 5;

/**
 * Lets queued promise continuations and immediates run (no time passes on any clock). Not a way for a
 * test to wait for the code under test (await its event, or witness "nothing happened" with a later
 * request it answers in order): ManualClock needs it, because a timer it fires starts promise chains
 * that must run before the next timer is due, and nothing announces their end. The one other use,
 * systemdNotify's "no ping after STOPPING", says why one turn is enough there.
 */
export async function drainImmediates(turns = DRAIN_TURNS): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
  handle: TimerHandle;
}

/** A Clock whose time moves only when the test says so; timers fire in due order inside `advance`. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: ManualTimer[] = [];
  /** The delay of every setTimeout call, in call order. */
  readonly delays: number[] = [];

  /** Starts at the real time by default, because signed requests carry Date.now() timestamps. */
  constructor(startMs: number = Date.now()) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = { unref: () => handle };
    this.delays.push(ms);
    this.timers.push({ id: ++this.seq, due: this.t + Math.max(0, ms), fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.handle !== handle);
  }

  /** Timers set and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, firing each timer that falls due on the way at its own due time, one
   * at a time, and letting the promise continuations it starts run before the next one (so timers set
   * by those continuations fire too when they fall within the window).
   */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await drainImmediates();
      let next: ManualTimer | undefined;
      for (const x of this.timers) {
        if (x.due <= target && (next === undefined || x.due < next.due || (x.due === next.due && x.id < next.id))) next = x;
      }
      if (next === undefined) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.due;
      next.fn();
    }
    this.t = target;
    await drainImmediates();
  }
}

type Waiter = { count: number; resolve: () => void };

/** Resolves when `have()` reaches `count`; rejects after EVENT_WAIT_LIMIT_MS of real time naming what it waited for. */
function waitForCount(waiters: Waiter[], have: () => number, count: number, what: string): Promise<void> {
  if (have() >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`waited for ${count} ${what}, have ${have()}`)), EVENT_WAIT_LIMIT_MS);
    waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
  });
}

function wake(waiters: Waiter[], have: number): Waiter[] {
  const still: Waiter[] = [];
  for (const w of waiters) {
    if (have >= w.count) w.resolve();
    else still.push(w);
  }
  return still;
}

export interface SentReply {
  replyTo: string;
  message: Uint8Array;
}

/** The reply route a FakeServerLink allows for `channel` and client `clientId`. */
export function fakeReplyRoute(channel: string, clientId: string): string {
  return `reply/${channel}/${clientId}`;
}

/** The orderer's side of a link: records every reply (taken at once) and allows reply/<channel>/... routes. */
export class FakeServerLink implements ServerLink {
  readonly name = 'fake-server-link';
  /** Set to play a link that wants small Deliver responses (serial). */
  maxResponseBytes?: number;
  readonly replies: SentReply[] = [];
  private handler: ((req: IncomingRequest) => void) | null = null;
  private waiters: Waiter[] = [];
  closed = false;

  async start(onRequest: (req: IncomingRequest) => void): Promise<void> {
    this.handler = onRequest;
  }

  /** Hands a request to whoever started the link. */
  request(req: IncomingRequest): void {
    if (this.handler === null) throw new Error('fake server link not started');
    this.handler(req);
  }

  reply(replyTo: string, message: Uint8Array): Promise<void> {
    this.replies.push({ replyTo, message });
    this.waiters = wake(this.waiters, this.replies.length);
    return Promise.resolve();
  }

  replyRouteAllowed(channel: string, replyTo: string): boolean {
    return replyTo.startsWith(`reply/${channel}/`);
  }

  repliesTo(replyTo: string): Uint8Array[] {
    return this.replies.filter((r) => r.replyTo === replyTo).map((r) => r.message);
  }

  /** Resolves once at least `count` replies (to any route) were sent. */
  waitForReplies(count: number): Promise<void> {
    return waitForCount(this.waiters, () => this.replies.length, count, 'replies');
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface SentFrame {
  channel: string;
  service: Service;
  message: Uint8Array;
}

/**
 * A board's side of a link to one endpoint. `open()` brings it up at once when `autoUp` is set;
 * otherwise it resolves when the test calls `setState('up')`. `send` fails unless the link is up, as
 * the MQTT link's does.
 */
export class FakeClientLink implements ClientLink {
  private stateValue: LinkState = 'down';
  private readonly events = new EventEmitter();
  private waiters: Waiter[] = [];
  private upWaiters: (() => void)[] = [];
  readonly sent: SentFrame[] = [];
  opens = 0;
  autoUp = true;
  closed = false;

  constructor(readonly endpoint: string) {}

  get state(): LinkState {
    return this.stateValue;
  }

  replyRoute(channel: string): string {
    return fakeReplyRoute(channel, this.endpoint);
  }

  open(_channels: readonly string[]): Promise<void> {
    this.opens++;
    if (this.autoUp) {
      this.setState('up');
      return Promise.resolve();
    }
    if (this.stateValue === 'up') return Promise.resolve();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  send(channel: string, service: Service, message: Uint8Array): Promise<void> {
    if (this.stateValue !== 'up') return Promise.reject(new Error(`${this.endpoint} is ${this.stateValue}`));
    this.sent.push({ channel, service, message });
    this.waiters = wake(this.waiters, this.sent.length);
    return Promise.resolve();
  }

  /** Changes the state and tells the listeners, as a real link does on (re)connecting or dropping. */
  setState(s: LinkState): void {
    this.stateValue = s;
    if (s === 'up') {
      const ws = this.upWaiters;
      this.upWaiters = [];
      for (const w of ws) w();
    }
    this.events.emit('state', s);
  }

  /** A message arriving on this link's reply route. */
  receive(channel: string, message: Uint8Array): void {
    this.events.emit('message', channel, message);
  }

  /** Resolves once at least `count` frames were sent. */
  waitForSent(count: number): Promise<void> {
    return waitForCount(this.waiters, () => this.sent.length, count, `frames sent on ${this.endpoint}`);
  }

  on<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  listenerCount(event: keyof ClientLinkEvents): number {
    return this.events.listenerCount(event);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stateValue = 'down';
  }
}
