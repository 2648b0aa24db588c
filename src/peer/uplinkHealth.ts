// How the board's uplink (its deliver client's link to the orderer) fares, for the gossip leader's decision
// to step down (src/gossip/leadershipState.ts): when the client last heard from the orderer, and whether a
// link to it is up. A healthy stream hears something at least every deliverDefaults.heartbeatMs (the
// orderer's heartbeat on an idle session), so silence far longer than that is a failed uplink, whatever
// state the client believes it is in (a link cut without a reset looks up for as long as MQTT's keepalive).

export interface UplinkHealth {
  /**
   * When the deliver client last heard from the orderer (a response, a heartbeat included), or when it was
   * started if later; null while it does not run.
   */
  lastHeardMs: number | null;
  /** Whether a link to the orderer is up now; null: not known (the client never ran, nothing was opened). */
  reachable: boolean | null;
}

export class UplinkMonitor {
  private startedMs: number | null = null;
  private lastResponseMs = Number.NEGATIVE_INFINITY;
  private everStarted = false;

  started(nowMs: number): void {
    this.startedMs = nowMs;
    this.everStarted = true;
  }

  stopped(): void {
    this.startedMs = null;
  }

  /** A response of the open stream arrived (a heartbeat too). */
  heard(nowMs: number): void {
    this.lastResponseMs = nowMs;
  }

  health(anyLinkUp: boolean): UplinkHealth {
    return {
      lastHeardMs: this.startedMs === null ? null : Math.max(this.startedMs, this.lastResponseMs),
      reachable: this.everStarted ? anyLinkUp : null,
    };
  }
}
