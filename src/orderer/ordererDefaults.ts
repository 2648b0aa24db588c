// The orderer's own limits (the Deliver service's, shared with clients, are in src/protocol/deliverDefaults.ts).

/** A signed request whose timestamp is further than this from the orderer's clock is refused. */
export const requestTimeWindowMs = 15 * 60 * 1000;
