/**
 * Why the node's control socket cannot be reached, in one sentence a newcomer can act on: what is
 * missing (the node's home, the socket, a node listening on it) and what to do about it.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

const WAITING = 'cibq keeps waiting and connects when the node is there';

/** The sentence for a failed connect with errno `code`; `radHome` is where the node's home should be, when known. */
export function describeNodeAbsence(socketPath: string, radHome: string | null, code: string | undefined): string {
  const start = 'start the node (`rad node start`)';
  const home = radHome ?? dirname(dirname(socketPath));
  if (code === 'ENOENT' && radHome !== null && !existsSync(radHome)) {
    return `no Radicle node here: its home ${radHome} does not exist. Install Radicle and ${start}, or set RAD_HOME (or node.rad_home in the config) to the node's home; ${WAITING}`;
  }
  if (code === 'ENOENT') {
    return `the Radicle node is not running: there is no control socket at ${socketPath}. ${start[0]?.toUpperCase()}${start.slice(1)}, or set RAD_HOME (or RAD_SOCKET) if the node lives elsewhere than ${home}; ${WAITING}`;
  }
  if (code === 'ECONNREFUSED') {
    return `the Radicle node's control socket ${socketPath} refuses connections: the node stopped or crashed and left it behind. Restart the node (\`rad node start\`); ${WAITING}`;
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return `no permission to use the Radicle node's control socket ${socketPath}: run cibq as the node's user (or one in its group); ${WAITING}`;
  }
  return `cannot reach the Radicle node's control socket ${socketPath} (${code ?? 'unknown error'}); ${WAITING}`;
}
