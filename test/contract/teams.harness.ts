import { teams } from '../../src/channels/teams.js';
import type { ContractHarness } from './harness.js';
import { startTeamsFake, TEAMS_TARGET } from '../fakes/teams.js';

type TeamsFake = Awaited<ReturnType<typeof startTeamsFake>>;

/** Teams: one webhook, one team channel. The card's TextBlocks are markdown: a reader sees them unescaped. */
export const harness: ContractHarness<TeamsFake> = {
  channel: teams,
  startFake: startTeamsFake,
  // A webhook has no address of its own: the plan journals this label, never the URL.
  address: () => TEAMS_TARGET,
  broadcastOnly: true,
  // The same workflow with a signature it did not issue.
  badCredentials: (fake) => ({ TEAMS_WEBHOOK_URL: fake.env.TEAMS_WEBHOOK_URL!.replace(`sig=${fake.sig}`, 'sig=forged-signature-0123456789abcdef') }),
  shown: (received) => received.text.replace(/\\([\\*_~`[\]()])/g, '$1'),
};
