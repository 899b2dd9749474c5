/**
 * `flashwire tail TOPICS`: prints alerts as they arrive, one line each,
 * resuming by itself with the last eventId if the connection drops.
 */
import type { Command } from 'commander';
import WebSocket from 'ws';
import { CliError } from '../cli-error';

function streamUrl(base: string, topics: string, since: string | undefined, token: string | undefined): string {
  const u = new URL('/v1/stream', base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (topics) u.searchParams.set('topics', topics);
  if (since) u.searchParams.set('since', since);
  if (token) u.searchParams.set('token', token);
  return u.toString();
}

function line(frame: Record<string, any>, json: boolean): string | undefined {
  if (json) return JSON.stringify(frame);
  const at = new Date().toISOString().slice(11, 19);
  switch (frame.type) {
    case 'alert':
      return `${at}  ${String(frame.alert.priority).toUpperCase().padEnd(8)} ${frame.alert.headline}  [${frame.alert.topics.join(', ')}]${frame.alert.url ? `  ${frame.alert.url}` : ''}`;
    case 'update':
      return `${at}  UPDATE   ${frame.alert.headline}  (correction of ${frame.alert.id})`;
    case 'retract':
      return `${at}  RETRACT  ${frame.id}: ${frame.reason}`;
    case 'welcome':
      return `# connected (${frame.topics.join(', ') || 'no topics'})${frame.resumed ? ', resumed' : ''}`;
    case 'resync':
      return `# resync (${frame.reason}): some alerts may have been missed; fetch /v1/feed`;
    case 'error':
      return `# error ${frame.code}: ${frame.message}`;
    default:
      return undefined;
  }
}

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print alerts for TOPICS as they arrive (comma list; default: every public topic)')
    .argument('[topics]', 'comma list of topics, e.g. europe,world', '*')
    .option('--since <eventId>', 'replay from after this eventId first')
    .option('--token <token>', 'subscriber token or subscribe key, for private/ topics', process.env.FLASHWIRE_TOKEN)
    .option('--json', 'print each frame as JSON')
    .option('--once', 'exit after the first alert')
    .action((topics: string, opts: { since?: string; token?: string; json?: boolean; once?: boolean }, cmd: Command) => {
      const base = cmd.parent!.opts<{ url: string }>().url;
      return new Promise<void>((resolve, reject) => {
        let since = opts.since;
        let attempt = 0;
        let connectedOnce = false;
        let done = false;
        const connect = () => {
          const ws = new WebSocket(streamUrl(base, topics, since, opts.token));
          ws.on('open', () => {
            attempt = 0;
            connectedOnce = true;
          });
          ws.on('message', (data) => {
            const frame = JSON.parse(String(data)) as Record<string, any>;
            if (frame.eventId) since = frame.eventId;
            const text = line(frame, Boolean(opts.json));
            if (text) process.stdout.write(text + '\n');
            if (opts.once && frame.type === 'alert') {
              done = true;
              ws.close();
              resolve();
            }
          });
          ws.on('error', (err) => {
            if (!connectedOnce) reject(new CliError(`cannot reach ${base}: ${err.message}`));
          });
          ws.on('close', (code, reason) => {
            if (!connectedOnce) return;
            if (code === 4001) return reject(new CliError(`credential refused: ${String(reason)}`));
            if (done) return;
            const wait = Math.min(30_000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
            process.stderr.write(`# disconnected (${code}); reconnecting in ${Math.round(wait)} ms\n`);
            setTimeout(connect, wait);
          });
        };
        connect();
      });
    });
}
