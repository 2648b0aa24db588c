// A board's role in its group. Until gossip and leader election exist every board pulls from the orderer
// itself, so every board is its own leader. Whatever decides the role later (the election) implements
// RoleSource and is handed to the Peer; everything that shows the role (status line, LEDs, demo) reads it
// from the peer's status, nowhere else.

import type { BoardRole, SyncState } from '../observability/statusReport.js';

export type { BoardRole } from '../observability/statusReport.js';

export interface RoleSource {
  role(): BoardRole;
  /**
   * While the board does not pull from the orderer (a gossip follower), whether it is level with its
   * neighbours; the orderer stream's own judgement (syncTracker.ts) applies while it pulls.
   */
  followerSync?(): SyncState;
}

/** The role of a board that has no group: it leads itself. */
export const soloLeader: RoleSource = { role: () => 'leader' };
