/**
 * A company network often lets HTTP out only through a proxy, named by HTTPS_PROXY and
 * HTTP_PROXY (NO_PROXY: the hosts reached directly), in upper or lower case: the convention
 * curl, npm and the Twilio SDK's own HTTP client follow. Node 20's http and fetch ignore
 * it, so the channels' connections (http-connection.ts) choose the route themselves, per
 * request. This machine's own addresses are never proxied: a relay or test server on
 * 127.0.0.1 is reached directly.
 *
 * The agents that tunnel through a proxy (https-proxy-agent: CONNECT for https targets;
 * http-proxy-agent: absolute URLs for http ones) are loaded only when a proxy is set.
 */
import type { Agent } from 'node:http';
import { getProxyForUrl } from 'proxy-from-env';

const VARIABLES = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY'];
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** The proxy a request to `url` goes through, or undefined: straight there. */
export function proxyFor(url: URL): string | undefined {
  if (LOOPBACK.test(url.hostname)) return undefined;
  const proxy = getProxyForUrl(url.href);
  if (!proxy) return undefined;
  // Written without a scheme ("proxy.corp:3128"), it is plain HTTP to the proxy, as curl
  // reads it (proxy-from-env would speak the target's scheme, TLS, to it).
  const scheme = url.protocol.slice(0, -1);
  const written = [`${scheme}_proxy`, `${scheme.toUpperCase()}_PROXY`, 'all_proxy', 'ALL_PROXY'].map((name) => process.env[name]).find(Boolean);
  return written && !written.includes('://') ? `http://${written}` : proxy;
}

/**
 * The proxy variables set, as `notify check --live` shows them (`HTTPS_PROXY=http://proxy.corp:3128`):
 * a user name and password in them are hidden.
 */
export function proxySettings(): string[] {
  return [...VARIABLES, 'NO_PROXY'].flatMap((name) => {
    const value = process.env[name.toLowerCase()] || process.env[name];
    return value ? [`${name}=${value.replace(/^([a-z][a-z\d+.-]*:\/\/)?[^@/]*@/i, '$1***@')}`] : [];
  });
}

/** Keep-alive agents through the proxies the environment names, made on first use. */
export interface ProxyAgents {
  /** The agent for a request to `url`, or undefined when it goes straight there. */
  agentFor(url: URL): Agent | undefined;
  close(): void;
}

/** Undefined when no proxy variable is set (the usual case): nothing is loaded. */
export async function loadProxyAgents(): Promise<ProxyAgents | undefined> {
  if (!VARIABLES.some((name) => process.env[name] || process.env[name.toLowerCase()])) return undefined;
  const [{ HttpsProxyAgent }, { HttpProxyAgent }] = await Promise.all([import('https-proxy-agent'), import('http-proxy-agent')]);
  const agents = new Map<string, Agent>();
  return {
    agentFor(url) {
      const proxy = proxyFor(url);
      if (!proxy) return undefined;
      const key = `${url.protocol} ${proxy}`;
      let agent = agents.get(key);
      if (!agent) {
        agent = url.protocol === 'https:' ? new HttpsProxyAgent(proxy, { keepAlive: true }) : new HttpProxyAgent(proxy, { keepAlive: true });
        agents.set(key, agent);
      }
      return agent;
    },
    close() {
      for (const agent of agents.values()) agent.destroy();
    },
  };
}
