/**
 * `flashwire tail TOPICS`: prints alerts as they arrive, one line each with
 * the alert's id and send time. Built on the Node client's AlertStream, so
 * it reconnects with the same backoff and jitter, resumes with the last
 * eventId, and forgets that cursor when the gateway answers `resync`.
 */
import type { Command } from 'commander';
import { AlertStream, StreamCredentialError, eventTime, type StreamEvent, type WelcomeFrame } from '../../../clients/node/src';
import { CliError } from '../cli-error';
import { serverFor, shown } from '../connection';

/** `2026-11-27 18:00:00Z`: when the event happened, not when it reached this terminal. */
function when(iso: string | undefined, eventId: string): string {
  const ms = iso ? Date.parse(iso) : eventTime(eventId);
  return new Date(Number.isFinite(ms) ? ms : eventTime(eventId)).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

function line(e: StreamEvent): string {
  switch (e.type) {
    case 'alert': {
      const a = e.alert;
      return `${when(a.sentAt, e.eventId)}  ${a.id}  ${a.priority.toUpperCase().padEnd(8)} ${a.headline}  [${a.topics.join(', ')}]${a.url ? `  ${a.url}` : ''}`;
    }
    case 'update':
      return `${when(e.alert.updatedAt, e.eventId)}  ${e.alert.id}  UPDATE   ${e.alert.headline}`;
    case 'retract':
      return `${when(undefined, e.eventId)}  ${e.id}  RETRACT  ${e.reason}`;
    case 'resync':
      return `# resync (${e.reason}): alerts may have been missed; carrying on live (GET /v1/feed has the history)`;
  }
}

/** Error frames that mean the topics asked for cannot be tailed. */
const TOPIC_REFUSALS = new Set(['invalid_topic', 'forbidden_topic', 'too_many_topics']);

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print alerts for TOPICS as they arrive (comma list; default: every public topic)')
    .argument('[topics]', 'comma list of topics, e.g. europe,world', '*')
    .option('--since <eventId>', 'replay from after this eventId first')
    .option('--token <token>', 'subscriber token or subscribe key, for private/ topics (default: the FLASHWIRE_TOKEN environment variable)')
    .option('--json', 'print each event as its JSON frame')
    .option('--once', 'exit after the first alert')
    .action(async (topics: string, opts: { since?: string; token?: string; json?: boolean; once?: boolean }, cmd: Command) => {
      const token = opts.token || process.env.FLASHWIRE_TOKEN || undefined;
      const server = serverFor(cmd, token);
      let opened = false;
      let failure: CliError | undefined;
      const stream = new AlertStream({
        url: server.toString(),
        key: token,
        topics: topics.split(',').map((t) => t.trim()).filter(Boolean),
        loadEventId: () => opts.since,
        onWelcome: (w: WelcomeFrame) => {
          opened = true;
          process.stderr.write(`# connected (${w.topics.join(', ') || 'no topics'})${w.resumed ? ', resumed' : ''}\n`);
        },
        onServerError: (f) => {
          if (!TOPIC_REFUSALS.has(f.code)) return void process.stderr.write(`# error ${f.code}: ${f.message}\n`);
          failure = new CliError(`tail: ${f.message} (${f.code})`);
          stream.close();
        },
        onState: (state, d) => {
          if (state !== 'reconnecting' || d.delayMs === undefined) return;
          if (!opened) {
            failure = new CliError(`cannot reach ${shown(server)}: ${d.reason ?? 'connection failed'} (is the service running? set --server or FLASHWIRE_SERVER)`, 3);
            stream.close();
            return;
          }
          process.stderr.write(`# disconnected (${d.reason ?? 'closed'}); reconnecting in ${d.delayMs} ms\n`);
        },
      });
      try {
        for await (const e of stream) {
          process.stdout.write((opts.json ? JSON.stringify(e) : line(e)) + '\n');
          if (opts.once && e.type === 'alert') break;
        }
      } catch (err) {
        if (err instanceof StreamCredentialError) throw new CliError(`the credential was refused: ${err.message.replace(/^the stream refused the credential: /, '')}`);
        throw err;
      }
      if (failure) throw failure;
    });
}
