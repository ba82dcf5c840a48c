/**
 * Command-line wiring only: parse, call a command, map errors to exit codes. One catch
 * at the entry turns every error a user can cause into one sentence (no stack trace
 * unless --debug) and exit code 2.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CHANNEL_NAMES, DEFAULT_PRIORITY } from './channels/index.js';
import { describeDefaults } from './commands/tuning.js';
import { EXIT, UserError } from './errors.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('notify')
  .description(`Execute the crisis communication plan: tell every emergency contact on every channel they have (${CHANNEL_NAMES.join(', ')}).`)
  .version(version, '-V, --version', 'print the version of notify')
  .option('--debug', 'show stack traces for unexpected errors (anywhere on the command line)')
  .showHelpAfterError('(run notify --help for usage)')
  // Subcommands have options of the same names (--json, --contacts…): let each parse its own.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

const collect = (value: string, previous: string[] = []) => [...previous, value];

function tuningOptions(command: Command): Command {
  return command
    .option('--rate <channel=n>', `messages per second per channel, or "off" (repeatable; defaults: ${describeDefaults('perSecond')})`, collect)
    .option('--concurrency <channel=n>', `sends in flight per channel (repeatable; defaults: ${describeDefaults('concurrency')})`, collect)
    .option('--max-attempts <n>', 'attempts per message for temporary errors (default 4)')
    .option('--attempt-timeout <seconds>', 'time limit of one attempt (default 20)');
}

function planOptions(command: Command): Command {
  return command
    .option('--contacts <file>', 'contact list CSV (default: $NOTIFY_CONTACTS, else ./contacts.csv)')
    .option('--templates <dir>', 'template directory (default: $NOTIFY_TEMPLATES, else ./templates, else the shipped ones)')
    .option('--channels <list>', `only these channels, comma-separated: ${CHANNEL_NAMES.join(',')}`)
    .option('--group <group>', 'only contacts in this group (repeatable)', collect)
    .option('--contact <name>', 'only this person, by name (repeatable)', collect)
    .option('--var <key=value>', 'template variable (repeatable)', collect)
    .option('--vars <file>', 'template variables from a YAML or JSON file')
    .option('--max-sms-segments <n>', 'refuse SMS longer than this many segments (default 2)')
    .option('--skip-invalid', 'plan without invalid contacts (they are still listed) instead of refusing');
}

tuningOptions(planOptions(program.argument('[scenario]', 'scenario to run: outage, update, resolved, drill, or one of your own'))
  .option('-n, --dry-run', 'plan, render and record everything, send nothing (opens no network connection)')
  .option('-y, --yes', 'send without asking for confirmation (needed without a terminal)')
  .option('--confirm-threshold <n>', 'above this many people, type the count to confirm (default 50)')
  .option('--expect-count <n>', 'with --yes: the number of people the plan must reach, or nothing is sent')
  .option('--json', 'print the result as JSON on stdout (human output stays on stderr)')
  .option('--mask', 'mask phone numbers and emails in output (always on when CI is set)')
  .addOption(new Option('--strategy <kind>', 'all: every channel a contact has; first: channels in --priority order until one delivers').choices(['all', 'first']).default('all'))
  .option('--priority <list>', `channel order for --strategy first (default ${DEFAULT_PRIORITY.join(',')})`)
  .option('--status-page <dir>', 'publish this run on the status page and regenerate the page in this folder')
  .option('--prices <file>', 'prices for the cost preview (default ./prices.yaml, else the shipped example prices)')
  .option('--live-prices', 'read the cost preview\'s prices from the providers (Twilio Pricing API; cached a day in .notify/)')
  .option('--max-duration <d>', 'warn when the run would take longer than this at the providers\' limits (default 15m)')
  .option('--queue [url]', 'send through workers (notify worker) on Redis: redis://[user:password@]host:6379 or rediss:// (default: $NOTIFY_QUEUE_URL)')
  .option('--detach', 'with --queue: enqueue and return; follow later with notify report <run-id> --queue'))
  .addHelpText('after', `
Examples:
  $ notify outage --dry-run                      see who gets what, send nothing
  $ notify outage --var eta=14:00                send the outage messages (asks to confirm)
  $ notify update --var eta=16:00 --var progress="the provider found the fault" --yes
  $ notify outage --var eta=14:00 --yes --expect-count 2000   a script: stops if the list changed
  $ notify drill --group crisis-team --channels sms,telegram
  $ notify resolved --json --yes > result.json

Exit codes: 0 all delivered (or plan valid), 1 some deliveries failed, 2 invalid input
(nothing sent), 130 interrupted (resume with "notify resume <run-id>").`)
  .action(async (scenario: string | undefined, flags) => {
    if (!scenario) {
      program.outputHelp();
      return;
    }
    const { send } = await import('./commands/send.js');
    process.exitCode = await send(scenario, flags);
  });

tuningOptions(program
  .command('resume'))
  .description('finish an interrupted run: never re-sends what was delivered')
  .argument('<run-id>', 'the run to finish (see .notify/runs/)')
  .option('-y, --yes', 'resume without asking for confirmation')
  .option('--json', 'print the result as JSON on stdout')
  .option('--skip-unknown', 'do not re-send messages whose outcome is unknown (may be missed instead of duplicated)')
  .option('--retry-failed', 'also send again the messages that failed (after fixing a token, a sender or an address)')
  .option('--ignore-damaged', 'go on although journal lines are damaged: the messages they concern are treated as unknown')
  .option('--queue [url]', 'the run went through workers: catch up with them and enqueue what is missing (default URL: $NOTIFY_QUEUE_URL)')
  .addHelpText('after', `
Examples:
  $ notify resume 2026-11-25-0214-outage-ab12            finish a run stopped by Ctrl-C or a crash
  $ notify resume 2026-11-25-0214-outage-ab12 --retry-failed --yes   after fixing SLACK_BOT_TOKEN`)
  .action(async (runId: string, flags) => {
    const { resume } = await import('./commands/resume.js');
    process.exitCode = await resume(runId, flags);
  });

program
  .command('report')
  .description('who was reached, on which channel, and who was not, for a run')
  .argument('[run-id]', 'the run to report on (default: the latest)')
  .option('--json', 'print the report as JSON on stdout')
  .option('--queue [url]', 'the run went through workers: first catch up with what they recorded (default URL: $NOTIFY_QUEUE_URL)')
  .option('--refresh', 'first ask the providers for final statuses (SMS undelivered and why, call outcomes) and record them')
  .addHelpText('after', `
Examples:
  $ notify report                                  the latest run: who was reached, who was NOT, and why
  $ notify report --refresh                        the same, after pulling final delivery statuses from the providers
  $ notify report 2026-11-25-0214-outage-ab12 --json > report.json`)
  .action(async (runId: string | undefined, flags) => {
    const { report } = await import('./commands/report.js');
    process.exitCode = await report(runId, flags);
  });

const audit = program.command('audit').description('prove what a run sent: check its journal\'s hash chain, export its timeline');
audit
  .command('verify')
  .description('check the hash chain of a run\'s journal (exit 1 naming the first bad line) and whether its inputs changed since')
  .argument('[run-id]', 'the run to verify (default: the latest)')
  .option('--json', 'print the result as JSON on stdout')
  .action(async (runId: string | undefined, flags) => {
    const { auditVerify } = await import('./commands/audit.js');
    process.exitCode = await auditVerify(runId, flags);
  });
audit
  .command('export')
  .description('the after-action timeline of a run: time, person, channel, template, outcome, provider id')
  .argument('<run-id>', 'the run to export')
  .addOption(new Option('--format <format>', 'csv or json').choices(['csv', 'json']).default('csv'))
  .option('-o, --output <file>', 'write to this file instead of stdout')
  .addHelpText('after', `
Examples:
  $ notify audit verify                                    the latest run
  $ notify audit export 2026-11-25-0214-outage-ab12 --format csv -o timeline.csv`)
  .action(async (runId: string, flags) => {
    const { auditExport } = await import('./commands/audit.js');
    process.exitCode = await auditExport(runId, flags);
  });

program
  .command('rollcall')
  .description('roll call: poll every channel for replies to a run (e.g. "1" safe, "2" needs help) and show who answered, who is silent')
  .argument('[run-id]', 'the run (default: the latest live run)')
  .option('--json', 'print the tally as JSON on stdout')
  .option('--mask', 'mask phone numbers, emails and names (always on when CI is set)')
  .option('--watch', 'keep polling (redraws on a terminal; one line per change under CI) until everyone answered, --until, or Ctrl-C')
  .option('--every <duration>', 'time between polls with --watch (default 30s)')
  .option('--until <duration>', 'stop watching after this long (e.g. 2h)')
  .option('--remind-after <duration>', 'remind a silent person this long after their last message, on their next channel')
  .option('--max-reminders <n>', 'reminders per person at most (default 2)')
  .option('--escalate-after <duration>', "tell a silent person's escalate_to contact (a name or a group) after this long, once")
  .addHelpText('after', `
Examples:
  $ notify drill --yes && notify rollcall                 who answered the drill, who is silent
  $ notify rollcall --watch --every 30s --remind-after 10m --escalate-after 30m --until 2h
  $ notify rollcall 2026-11-25-0214-drill-ab12 --json

Exit codes: 0 everyone answered, 1 someone is silent or unreachable, 2 invalid input, 130 interrupted.`)
  .action(async (runId: string | undefined, flags) => {
    const { rollcall } = await import('./commands/rollcall.js');
    process.exitCode = await rollcall(runId, flags);
  });

program
  .command('check')
  .description('validate the whole plan without sending anything: contacts, every template for every recipient, limits, credentials')
  .option('--scenario <name>', 'check only this scenario (repeatable; default: all)', collect)
  .option('--live', 'also check the credentials with each provider (sends nothing)')
  .option('--json', 'print the result as JSON on stdout')
  .option('--mask', 'mask phone numbers and emails in output (always on when CI is set)')
  .option('--contacts <file>', 'contact list CSV (default: $NOTIFY_CONTACTS, else ./contacts.csv, else the example)')
  .option('--templates <dir>', 'template directory')
  .option('--channels <list>', 'only these channels, comma-separated')
  .option('--var <key=value>', 'template variable (repeatable)', collect)
  .option('--vars <file>', 'template variables from a YAML or JSON file')
  .option('--max-sms-segments <n>', 'SMS segment budget (default 2)')
  .option('--prices <file>', 'prices for the cost preview (default ./prices.yaml, else the shipped example prices)')
  .option('--live-prices', 'read the cost preview\'s prices from the providers (Twilio Pricing API; cached a day in .notify/)')
  .option('--max-duration <d>', 'warn when a scenario would take longer than this at the default limits (default 15m)')
  .option('--queue [url]', 'also check the queue: Redis answers and a live worker serves each channel (default URL: $NOTIFY_QUEUE_URL)')
  .addHelpText('after', `
Examples:
  $ notify check                       every scenario, every contact, every channel
  $ notify check --scenario outage --live
  $ CI=true notify check --json        masked output and a JSON result for a nightly job`)
  .action(async (flags) => {
    const { check } = await import('./commands/check.js');
    process.exitCode = await check(flags);
  });

planOptions(program.command('preview'))
  .description('show exactly what recipients will read, per channel, without sending')
  .argument('<scenario>', 'scenario to preview')
  .option('--channel <name>', 'only this channel')
  .option('--locale <code>', 'only recipients with this locale (fr, en…)')
  .option('--json', 'print the previews as JSON on stdout')
  .option('--mask', 'mask phone numbers and emails in output')
  .addHelpText('after', `
Examples:
  $ notify preview outage --contact "Élodie Marchand"
  $ notify preview update --channel sms --locale en --var eta=16:00`)
  .action(async (scenario: string, flags) => {
    const { preview } = await import('./commands/preview.js');
    process.exitCode = await preview(scenario, flags);
  });

const contacts = program.command('contacts').description('import and check the emergency contact list');
contacts
  .command('import')
  .description('convert a spreadsheet export (Excel, Google Sheets; , ; or tab; UTF-8 or Windows-1252) into the canonical contacts.csv')
  .argument('<file>', 'the exported CSV')
  .option('-o, --output <file>', 'where to write the canonical list', 'contacts.csv')
  .option('--map <Header=field>', 'map a column by hand, e.g. --map "Portable=phone" (repeatable)', collect)
  .option('--region <code>', 'phone region for national numbers (default: $NOTIFY_DEFAULT_REGION or FR)')
  .option('--strict', 'refuse to write anything if any row is rejected')
  .option('--force', 'replace the output file if it exists (the changes are shown first)')
  .option('--dry-run', 'show the import and what would change in the output file; write nothing')
  .option('-y, --yes', 'write even if more than 10 % of the people on the existing list would be removed')
  .option('--json', 'print the import summary as JSON on stdout')
  .addHelpText('after', `
Examples:
  $ notify contacts import export.csv
  $ notify contacts import new-export.csv --dry-run          what would change in contacts.csv
  $ notify contacts import liste.csv --map "Portable=phone" --map "Service=groups" -o contacts.csv --force`)
  .action(async (file: string, flags) => {
    const { contactsImport } = await import('./commands/contacts-import.js');
    process.exitCode = await contactsImport(file, flags);
  });
contacts
  .command('diff')
  .description('what changes between two contact lists: added, removed, changed (old → new), unchanged')
  .argument('<before>', 'the list as it was (e.g. the contacts.csv of the main branch)')
  .argument('<after>', 'the list as it is now')
  .option('--json', 'print the diff as JSON on stdout')
  .option('--mask', 'mask phone numbers and emails (always on when CI is set)')
  .addHelpText('after', `
Examples:
  $ notify contacts diff contacts.csv new-contacts.csv
  $ git show main:contacts.csv > /tmp/before.csv && notify contacts diff /tmp/before.csv contacts.csv`)
  .action(async (before: string, after: string, flags) => {
    const { contactsDiff } = await import('./commands/contacts-diff.js');
    process.exitCode = await contactsDiff(before, after, flags);
  });
contacts
  .command('check')
  .description('validate a contact list and show coverage per group and channel')
  .argument('[file]', 'the contact list (default: $NOTIFY_CONTACTS, else ./contacts.csv)')
  .option('--mask', 'mask phone numbers and emails (always on when CI is set)')
  .option('--json', 'print the result as JSON on stdout')
  .addHelpText('after', `
Examples:
  $ notify contacts check                          ./contacts.csv: coverage per group and channel
  $ CI=true notify contacts check contacts.csv     phone numbers and emails masked`)
  .action(async (file: string | undefined, flags) => {
    const { contactsCheck } = await import('./commands/contacts-check.js');
    process.exitCode = await contactsCheck(file, flags);
  });

program
  .command('worker')
  .description('send the deliveries queued by notify <scenario> --queue, on a machine that holds the providers\' credentials')
  .option('--queue <url>', 'redis://[user:password@]host:6379 or rediss:// (default: $NOTIFY_QUEUE_URL; key prefix: $NOTIFY_QUEUE_PREFIX, default notify)')
  .option('--channels <list>', 'only these channels, comma-separated (default: every channel configured here)')
  .option('--concurrency <n|channel=n>', 'sends in flight per channel in this worker (repeatable; default: each channel\'s own)', collect)
  .addHelpText('after', `
Examples:
  $ NOTIFY_QUEUE_URL=rediss://notify:secret@redis.internal:6380 notify worker
  $ notify worker --channels sms --concurrency 8

The rate per channel is the queue's, set by the lead's --rate: it holds across all workers.`)
  .action(async (flags) => {
    const { worker } = await import('./commands/worker.js');
    process.exitCode = await worker(flags);
  });

program
  .command('status-page')
  .description('build a static status page (index.html, status.json, feed.xml) from the runs published with --status-page')
  .option('--out <dir>', 'output folder', 'status-page')
  .option('--locale <code>', 'page language: fr or en')
  .option('--templates <dir>', 'template directory (uses its status-page/ templates when present)')
  .addHelpText('after', `
Examples:
  $ notify status-page --out public                index.html, status.json and feed.xml from the journal
  $ notify resolved --status-page public --yes    send, then refresh the page from the journal`)
  .action(async (flags) => {
    const { statusPage } = await import('./commands/status-page.js');
    process.exitCode = await statusPage(flags);
  });

tuningOptions(program.command('watch'))
  .description('probe the service from watch.yaml; alert the crisis team (only) when it looks down or back up, and when a customer update is due')
  .option('--config <file>', 'the probes and rules', 'watch.yaml')
  .option('--once', 'run one round and exit (for cron or a CI schedule)')
  .option('--json', 'print each round as one JSON line on stdout')
  .option('--contacts <file>', 'contact list CSV (default: $NOTIFY_CONTACTS, else ./contacts.csv)')
  .option('--templates <dir>', 'template directory (needs alert-team, alert-team-recovered, alert-team-reminder)')
  .addHelpText('after', `
Examples:
  $ cp watch.example.yaml watch.yaml && notify watch    runs until Ctrl-C; every round says what it saw and decided
  $ notify watch --once --json                          one round, for cron: the state in .notify/watch/ carries the counts

Exit codes: 0 round done (--once), 1 a message it sent had failures, 2 invalid watch.yaml or plan,
130 stopped by Ctrl-C (the state is kept; notify watch resumes the counts).`)
  .action(async (flags) => {
    const { watch } = await import('./commands/watch.js');
    process.exitCode = await watch(flags);
  });

async function main(): Promise<void> {
  // --debug is taken out before parsing so that it works after a subcommand too
  // (`notify report --debug`), as the "run again with --debug" hint suggests.
  const debug = process.argv.includes('--debug');
  // Stack traces name the TypeScript sources, not the bundle (dist/notify.mjs.map).
  if (debug) process.setSourceMapsEnabled(true);
  const args = process.argv.slice(2).filter((arg) => arg !== '--debug');
  try {
    const scenario = scenarioAskingForHelp(args);
    if (scenario) {
      const { scenarioHelp } = await import('./commands/scenario-help.js');
      process.exitCode = scenarioHelp(scenario, valueOf(args, '--templates'));
      return;
    }
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    process.exitCode = await exitCodeFor(error, debug);
  }
}

/** `notify outage --help`: the scenario named before or after --help, not a subcommand. */
function scenarioAskingForHelp(args: string[]): string | undefined {
  if (!args.includes('--help') && !args.includes('-h')) return undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) {
      const option = program.options.find((o) => o.long === arg || o.short === arg);
      if (option && (option.required || option.optional)) i += 1; // skip the option's value
      continue;
    }
    return program.commands.some((c) => c.name() === arg) ? undefined : arg;
  }
  return undefined;
}

function valueOf(args: string[], flag: string): string | undefined {
  const inline = args.find((a) => a.startsWith(`${flag}=`));
  if (inline) return inline.slice(flag.length + 1);
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

async function exitCodeFor(error: unknown, debug: boolean): Promise<number> {
  if (error instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is a bad flag.
    return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  }
  if (error instanceof UserError) {
    const { createOutput } = await import('./output.js');
    const out = createOutput({ ci: Boolean(process.env.CI && process.env.CI !== 'false'), mask: process.argv.includes('--mask') });
    if (error.problems.length > 0) {
      const { printProblems } = await import('./format.js');
      printProblems(out, error.problems, `${error.problems.length} problem(s):`);
    }
    out.line(`notify: ${error.message}`);
    return EXIT.invalid;
  }
  process.stderr.write(`notify: unexpected error: ${(error as Error)?.message ?? error}\n`);
  if (debug) process.stderr.write(`${(error as Error)?.stack}\n`);
  else process.stderr.write('Run again with --debug for details, and report it.\n');
  return EXIT.failed;
}

await main();
