// A board's role in its group. With gossip, the organisation's leader election decides it (the gossip node
// implements RoleSource and is handed to the Peer); a board without gossip pulls from the orderer itself
// and is its own leader (soloLeader). Everything that shows the role (status line, LEDs, demo) reads it
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
