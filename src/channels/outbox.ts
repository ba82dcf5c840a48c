/**
 * The dry run's transport: it accepts every message and opens no socket. A dry run is
 * the real pipeline (plan, journal, dispatch, report) with this in place of the providers.
 */
import type { Transport } from '../core/channel.js';

export const outbox: Transport = {
  async send() {
    return { providerId: 'dry-run' }; // the delivery id is in the record already
  },
  async verify() {},
  async close() {},
};
