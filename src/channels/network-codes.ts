/**
 * fetch failures (the platform's, or http-connection.ts's), by the code on the error's `cause`,
 * shared by the channels that speak HTTP through fetch: [outcome unknown — the request may have left —, what happened].
 * A refused or unresolvable connection sent nothing; a reset after connecting may have.
 */
export const networkCodes: Record<string, [boolean, string]> = {
  ECONNREFUSED: [false, 'refused the connection'],
  EPROXY: [false, 'cannot be reached: the proxy (HTTPS_PROXY) refused the connection'],
  ENOTFOUND: [false, 'cannot be found (DNS)'],
  EAI_AGAIN: [false, 'cannot be found right now (DNS lookup failed)'],
  EHOSTUNREACH: [false, 'cannot be reached (no route to host)'],
  UND_ERR_CONNECT_TIMEOUT: [false, 'did not accept the connection in time'],
  ECONNRESET: [true, 'closed the connection before answering'],
  UND_ERR_SOCKET: [true, 'closed the connection before answering'],
  EPIPE: [true, 'closed the connection while the request was being sent'],
  ETIMEDOUT: [true, 'did not answer in time'],
};
