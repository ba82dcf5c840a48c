/**
 * `notify check`: the nightly drill. Validates the whole plan without sending anything —
 * contacts, every scenario rendered for every recipient on every channel, limits,
 * credentials (and with --live, a credential preflight with each provider) — and
 * reports every problem at once. Exit 0 when the plan is sound, 2 otherwise.
 */
import { channelNamed, unconfigured } from '../channels/index.js';
import { proxySettings } from '../channels/proxy.js';
import type { Config } from '../config.js';
import { answerProblems } from '../core/answers.js';
import { renderEveryTemplate } from '../core/coverage.js';
import type { ChannelName, Problem } from '../core/types.js';
import { EXIT } from '../errors.js';
import { printNotices, printProblems } from '../format.js';
import { createOutput } from '../output.js';
import { duration, type BlastRadius } from '../core/blast-radius.js';
import { blastRadius, type BlastFlags } from './blast.js';
import { findScenario, loadInputs, planScenario, type PlanFlags } from './prepare.js';
import { DEFAULT_LIMITS } from './tuning.js';

export interface CheckFlags extends PlanFlags, BlastFlags {
  scenario?: string[];
  live?: boolean;
  json?: boolean;
  mask?: boolean;
  /** Also check the queue: Redis answers, a live worker per channel (src/queue/). */
  queue?: string | boolean;
}

type CredentialStatus = 'ok' | 'not configured' | 'not checked' | `failed: ${string}`;

export interface CheckResult {
  ok: boolean;
  contacts: { file: string; valid: number; invalid: number };
  scenarios: { name: string; messages: number; recipients: number; notReachable: number; problems: number; blastRadius: BlastRadius }[];
  credentials: Partial<Record<ChannelName, CredentialStatus>>;
  problems: Problem[];
  /** Worth fixing but not blocking: merged duplicate rows, landlines that cannot get SMS. */
  warnings: Problem[];
  /** With --queue: where, and which workers are alive. */
  queue?: { url: string; prefix: string; reachable: boolean; workers: { id: string; channels: string[] }[] };
}

const VERIFY_TIMEOUT_MS = 15_000;

export async function check(flags: CheckFlags): Promise<number> {
  const inputs = loadInputs(flags, { live: false });
  const out = createOutput({ ci: inputs.config.ci, mask: flags.mask ?? false });
  const names = flags.scenario?.length ? flags.scenario : [...inputs.templates.scenarios.keys()].sort();
  const scenarios = names.map((n) => findScenario(inputs.templates, n));

  const problems: Problem[] = [...inputs.contacts.invalid];
  const result: CheckResult = {
    ok: false,
    contacts: { file: inputs.source.path, valid: inputs.contacts.count, invalid: inputs.contacts.invalid.length },
    scenarios: [], credentials: {}, problems, warnings: [...inputs.contacts.notices],
  };
  const warned = new Set(result.warnings.map((w) => w.message));
  const channelsInUse = new Set<ChannelName>();
  const { extraColumns } = inputs.contacts;
  for (const scenario of scenarios) {
    const prepared = planScenario({ ...inputs, skipInvalid: true }, scenario, { live: false });
    const own = prepared.problems.map((p) => ({ ...p, where: p.where.includes(scenario.name) ? p.where : `${scenario.name}: ${p.where}` }));
    own.push(...answerProblems(scenario)); // a roll call's templates say how to answer
    const coverage = renderEveryTemplate({
      templates: inputs.templates, scenario, channels: inputs.channels, variables: prepared.variables, extraColumns,
      limits: { maxSmsSegments: inputs.maxSmsSegments }, now: new Date(), defaultLocale: inputs.config.defaultLocale,
    });
    for (const p of coverage) {
      if (!own.some((o) => o.where === p.where)) own.push({ ...p, message: `${p.message} (found with a sample contact: no current contact receives this template)` });
    }
    problems.push(...own);
    for (const channel of prepared.plan.channels.keys()) channelsInUse.add(channel);
    result.scenarios.push({
      name: scenario.name, messages: prepared.plan.messages, recipients: prepared.plan.recipients,
      notReachable: prepared.plan.unreachable.length, problems: own.length, blastRadius: await blastRadius(prepared, DEFAULT_LIMITS, flags),
    });
    if (scenario === scenarios[0]) printNotices(out, prepared.notices.filter((n) => n.where === 'contacts'));
    // Warnings (merged rows, landlines for SMS) are about the list: say each once.
    for (const w of prepared.plan.warnings.filter((w) => !warned.has(w.message))) {
      warned.add(w.message);
      result.warnings.push(w);
    }
  }
  printNotices(out, result.warnings);
  // Through a queue the workers hold the credentials: this machine needs none.
  const queued = flags.queue !== undefined;
  for (const { channel, missing } of queued ? [] : unconfigured(channelsInUse, inputs.config)) {
    result.credentials[channel] = 'not configured';
    if (!inputs.source.isExample) {
      problems.push({ where: missing.join(', '), message: `${channel} is used by the plan but not configured; set ${missing.join(' and ')} (or .env).`, group: 'credentials' });
    }
  }
  for (const channel of channelsInUse) result.credentials[channel] ??= flags.live && !queued ? 'ok' : 'not checked';
  if (flags.live && !queued) await verifyCredentials(inputs.config, [...channelsInUse], result, problems);
  if (queued) {
    const { checkQueue, queueFlag } = await import('../queue/commands.js');
    result.queue = await checkQueue(queueFlag(flags.queue, { envByDefault: true })!, channelsInUse, problems);
  }

  result.ok = problems.length === 0;
  printCheck(out, result, inputs.source.isExample, flags.live === true && !queued);
  if (flags.json) out.json(result);
  return result.ok ? EXIT.ok : EXIT.invalid;
}

/** Live preflight: each configured channel asks its provider who it is. Sends nothing. */
async function verifyCredentials(config: Config, channels: ChannelName[], result: CheckResult, problems: Problem[]) {
  await Promise.all(
    channels.filter((c) => result.credentials[c] === 'ok').map(async (name) => {
      try {
        const transport = await channelNamed(name).connect(config);
        try {
          await transport.verify(AbortSignal.timeout(VERIFY_TIMEOUT_MS));
        } finally {
          await transport.close();
        }
      } catch (error) {
        const reason = (error as Error).message;
        result.credentials[name] = `failed: ${reason}`;
        problems.push({ where: name, message: `credential check failed: ${reason}`, group: 'credentials' });
      }
    }),
  );
}

function printCheck(out: ReturnType<typeof createOutput>, result: CheckResult, isExample: boolean, live: boolean) {
  const { color } = out;
  for (const s of result.scenarios) {
    const mark = s.problems ? color.red('✗') : color.green('✓');
    const { eta, cost } = s.blastRadius;
    const radius = ` ≈ ${duration(eta.seconds)}${cost ? `, ≈ ${cost.total.toFixed(2)} ${cost.currency}` : ''}`;
    out.line(`${mark} ${s.name.padEnd(10)} ${s.messages} messages to ${s.recipients} people${radius}${s.notReachable ? color.yellow(`, ${s.notReachable} with no channel`) : ''}`);
  }
  const creds = Object.entries(result.credentials).map(([c, status]) => `${c}: ${status}`);
  if (creds.length) out.line(`Credentials: ${creds.join(' · ')}${isExample ? ' (example list: missing credentials are not an error)' : ''}`);
  const proxies = live ? proxySettings() : [];
  if (proxies.length > 0) out.line(`Through the proxy: ${proxies.join(' ')} (all channels but email).`);
  if (result.queue) {
    const { url, reachable, workers } = result.queue;
    out.line(`Queue: ${url} ${reachable ? `answers; ${workers.length} live worker(s)${workers.length ? `: ${workers.map((w) => `${w.id} (${w.channels.join(',')})`).join(', ')}` : ''}` : 'does not answer'}`);
  }
  if (result.problems.length > 0) printProblems(out, result.problems, `${result.problems.length} problem(s) found:`);
  const total = result.scenarios.reduce((n, s) => n + s.messages, 0);
  // One plain line a CI job log can show as the outcome.
  out.line(
    `notify check: ${result.ok ? 'OK' : 'FAILED'} — ${result.scenarios.length} scenario(s), ${result.contacts.valid} contacts, ${total} messages rendered, ${result.problems.length} problem(s)`,
  );
}
