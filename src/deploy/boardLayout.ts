// Where edgepeer lives on a board. packaging/systemd/edgepeer.service names the same paths (a test
// checks that they agree).
//
//   /opt/edgepeer/releases/<release>/   one unpacked bundle + that board's network files and board.env
//   /opt/edgepeer/current  -> releases/<release>     switched atomically (rename of a new symlink)
//   /opt/edgepeer/previous -> releases/<release>     what `current` was before the last switch
//   /opt/edgepeer/incoming/                          uploads in progress
//   /etc/systemd/system/edgepeer.service             copied from current/systemd/ at each switch
//   /var/lib/edgepeer/                               the ledger (StateDirectory=): never touched by deploy
export const boardLayout = {
  base: '/opt/edgepeer',
  releases: '/opt/edgepeer/releases',
  current: '/opt/edgepeer/current',
  previous: '/opt/edgepeer/previous',
  incoming: '/opt/edgepeer/incoming',
  unitDir: '/etc/systemd/system',
  unitName: 'edgepeer.service',
  stateDir: '/var/lib/edgepeer',
  serviceUser: 'edgepeer',
  /** Groups of the service user: the UART and the GPIO character devices. */
  serviceGroups: ['dialout', 'gpio'],
  /** Inside a release. */
  networkDir: 'network',
  boardEnv: 'board.env',
  releaseInfo: 'release.json',
} as const;

/** Releases kept on a board (besides current and previous, which are never removed). */
export const DEFAULT_RELEASES_KEPT = 3;

/** releases/<name>: 20251124T071500.123Z-0.1.0-linux-arm64, so that releases sort by the time they were made. */
export function releaseName(now: Date, version: string, target: string): string {
  return `${now.toISOString().replace(/[-:]/g, '')}-${version}-${target}`;
}
