/**
 * The gateway role: tails the feed, keeps the hub of local readers, and
 * opens readers for the WebSocket and SSE endpoints. Several gateways run
 * side by side against one Redis, each delivering to its own readers.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Settings } from '../../config/settings';
import type { Principal } from '../auth/principal';
import { ZERO_EVENT_ID } from '../feed/event-id';
import { Feed } from '../feed/feed';
import { isExpired, type FeedEvent } from '../feed/feed-event';
import { observeDispatched, observeReach } from '../metrics/metrics';
import type { Keys } from '../redis/keys';
import { ReportWriter } from '../store/report';
import { CLOSE } from '../protocol/frames';
import { grant } from './access';
import { dispatchLastOfBatch } from './dispatch-batch';
import { FeedTail } from './feed-tail';
import { Hub } from './hub';
import { ParallelWrites, writeThreadCount } from './parallel-writes';
import { Reader, type ReaderLimits } from './reader';
import { RecentEvents } from './recent-events';
import { resume, type ResumeSource } from './resume';
import type { Transport } from './transport';

export interface GatewayDeps {
  settings: Settings;
  log: Logger;
  /** Request/response connection (resume reads, reports). */
  redis: Redis;
  /** Dedicated connection for the blocking feed tail. */
  tailConnection: Redis;
  keys: Keys;
}

export interface OpenReaderOptions {
  transport: Transport;
  requested: readonly string[];
  principal: Principal | undefined;
  since: string | undefined;
  /** Called once `welcome` is written: from then on the reader takes client frames, during its replay too. */
  onWelcome?: (reader: Reader) => void;
}

export class Gateway {
  readonly hub = new Hub<Reader>();
  readonly readers = new Set<Reader>();
  private recent: RecentEvents;
  private readonly tail: FeedTail;
  private readonly feed: Feed;
  private accepting = false;
  private stopping: Promise<void> | undefined;
  private readonly resumeSource: ResumeSource;
  /** Connections admitted over every endpoint (WebSocket and SSE share the cap). */
  private admitted = 0;
  /** This gateway's share of each alert's delivery report (issue 4). */
  readonly reports: ReportWriter;
  /** Who opened each reader, so a revoked key's readers can be found. */
  private readonly principals = new WeakMap<Reader, Principal>();
  /** Shares a big dispatch's socket writes with write threads; none when there is no core to spare. */
  private writes: ParallelWrites | undefined;
  /** Counters for metrics and tests. */
  readonly stats = { eventsTailed: 0, deliveries: 0, slowDisconnects: 0, receipts: 0, resumesFromMemory: 0, resumesFromFeed: 0, resyncs: 0, maxBufferedAtCutOff: 0, threadWrites: 0 };
  /** One limits object and one slow-reader callback for every reader: a reader keeps no closure of its own. */
  private readonly readerLimits: ReaderLimits;
  private readonly onSlowReader = (reader: Reader, bufferedBytes: number): void => {
    this.stats.slowDisconnects++;
    this.stats.maxBufferedAtCutOff = Math.max(this.stats.maxBufferedAtCutOff, bufferedBytes);
    this.deps.log.info({ connectionId: reader.id, bufferedBytes }, 'slow reader cut off (4008)');
  };

  constructor(readonly deps: GatewayDeps) {
    this.feed = new Feed(deps.redis, deps.keys);
    this.readerLimits = { maxBufferedBytes: deps.settings.FLASHWIRE_MAX_BUFFERED_BYTES, maxPendingEvents: 10_000 };
    this.reports = new ReportWriter(deps.redis, deps.keys, randomUUID(), deps.log, { retentionMs: deps.settings.FLASHWIRE_RECORD_RETENTION_SECONDS * 1000 });
    this.recent = new RecentEvents(0, ZERO_EVENT_ID);
    this.tail = new FeedTail(new Feed(deps.tailConnection, deps.keys), deps.tailConnection, (events) => this.onEvents(events), deps.log, {
      graceMs: deps.settings.FLASHWIRE_REDIS_TIMEOUT_MS,
    });
    this.resumeSource = {
      recent: this.recent,
      feed: this.feed,
      tailPosition: () => this.tail.position,
    };
  }

  get settings(): Settings {
    return this.deps.settings;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /** Takes a connection slot; false when FLASHWIRE_MAX_CONNECTIONS are already held. */
  admit(): boolean {
    if (this.admitted >= this.settings.FLASHWIRE_MAX_CONNECTIONS) return false;
    this.admitted++;
    return true;
  }

  /** Gives back a slot taken by admit(). */
  release(): void {
    if (this.admitted > 0) this.admitted--;
  }

  get connectionCount(): number {
    return this.admitted;
  }

  async start(): Promise<void> {
    const pos = await this.tail.start();
    this.recent = new RecentEvents(this.settings.FLASHWIRE_REPLAY_CACHE_ENTRIES, pos);
    this.resumeSource.recent = this.recent;
    const threads = writeThreadCount(this.settings.FLASHWIRE_GATEWAY_WRITE_THREADS, this.settings.FLASHWIRE_GATEWAY_PROCESSES);
    if (threads > 0) {
      const onError = (err: Error) => this.deps.log.error({ err: String(err) }, 'a gateway write thread failed; writing on the main thread alone');
      this.writes = new ParallelWrites({ threads, onError });
    }
    this.accepting = true;
    this.reports.start();
    this.deps.log.info({ position: pos }, 'gateway tailing the feed');
  }

  /** Feed order in, socket writes out: each event is matched through the hub once. */
  private onEvents(events: FeedEvent[]): void {
    const now = Date.now();
    const last = events[events.length - 1];
    for (const e of events) {
      this.recent.push(e);
      this.stats.eventsTailed++;
      if (isExpired(e, now)) continue;
      const started = Date.now();
      const n = e === last ? dispatchLastOfBatch(() => this.hub.dispatch(e), this.writes) : this.hub.dispatch(e);
      if (e === last && this.writes) this.stats.threadWrites = this.writes.threadWrites;
      const finished = Date.now();
      this.stats.deliveries += n;
      observeDispatched(e.eventId, finished);
      this.deps.log.info({ alertId: e.alertId, eventId: e.eventId, readers: n }, `${e.type} delivered by this gateway`);
      // Reports count the alert's own sending, not its corrections.
      if (e.type === 'alert') {
        this.reports.delivered(e.eventId, e.alertId, n, finished, started);
        if (n > 0) observeReach(e, n, started, finished);
      }
    }
  }

  /**
   * Opens a reader: grants topics, registers it in the hub, sends `welcome`,
   * replays from `since` if asked, then goes live. Refused topics are
   * answered with error frames after the welcome.
   */
  async openReader(o: OpenReaderOptions): Promise<Reader> {
    const s = this.settings;
    // Closures made here live only while the reader opens: none is kept by the reader.
    const reader = new Reader(randomUUID(), o.transport, this.readerLimits, this.onSlowReader);
    const { granted, refused } = grant(o.principal, o.requested);
    const kept = granted.slice(0, s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION);
    for (const t of granted.slice(s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION)) {
      refused.push({ topic: t, code: 'too_many_topics', message: `at most ${s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION} topics per connection` });
    }
    this.readers.add(reader);
    this.deps.log.debug({ connectionId: reader.id, topics: kept, refused: refused.length, credential: o.principal?.kind ?? 'none', since: o.since }, 'reader opened');
    if (o.principal) this.principals.set(reader, o.principal);
    for (const t of kept) {
      reader.topics.add(t);
      this.hub.add(reader, t);
    }
    const welcome = (resumed: boolean) => {
      reader.send({ type: 'welcome', connectionId: reader.id, heartbeatMs: s.FLASHWIRE_HEARTBEAT_MS, topics: kept, resumed });
      o.onWelcome?.(reader);
    };
    const sendRefusals = () => {
      for (const r of refused) reader.send({ type: 'error', code: r.code, message: r.message });
    };

    if (o.since === undefined) {
      welcome(false);
      sendRefusals();
      return reader;
    }
    try {
      const replayOptions = { pageSize: 200, drainBelowBytes: Math.floor(s.FLASHWIRE_MAX_BUFFERED_BYTES / 4), timeLimitMs: s.FLASHWIRE_RESUME_DEADLINE_MS };
      await resume(reader, o.since, this.resumeSource, replayOptions, (plan) => {
        welcome(plan.ok);
        sendRefusals();
        if (plan.ok) {
          if (plan.cached) this.stats.resumesFromMemory++;
          else this.stats.resumesFromFeed++;
        } else {
          this.stats.resyncs++;
        }
      });
    } catch (err) {
      // Redis could not answer the replay: the reader must retry with the
      // same `since` rather than silently miss events.
      this.deps.log.warn({ err: String(err), connectionId: reader.id }, 'resume failed; closing with 1013');
      reader.close(CLOSE.overloaded, 'cannot resume now; retry with the same since');
    }
    return reader;
  }

  subscribe(reader: Reader, topics: string[]): void {
    for (const t of topics) {
      if (reader.topics.has(t)) continue;
      reader.topics.add(t);
      this.hub.add(reader, t);
    }
  }

  unsubscribe(reader: Reader, topics: string[]): void {
    for (const t of topics) {
      if (!reader.topics.delete(t)) continue;
      this.hub.remove(reader, t);
    }
  }

  /** A reader's receipt for an event it has shown: counted once, and only for an alert written to it. */
  onAck(reader: Reader, eventId: string): void {
    const alertId = reader.takeAck(eventId);
    if (alertId === undefined) return;
    this.reports.receipt(alertId);
    this.stats.receipts++;
  }

  /** Closes, with 4001, every reader that authenticated with the API key `name`. */
  revokeKey(name: string): number {
    let n = 0;
    for (const r of [...this.readers]) {
      const p = this.principals.get(r);
      if (p?.kind !== 'key' || p.name !== name) continue;
      r.close(CLOSE.badCredential, 'credential revoked');
      this.closeReader(r);
      n++;
    }
    return n;
  }

  /**
   * Closes, with 4001, every reader whose stored API key is gone. Catches a
   * revocation this gateway never heard of (announced while its pub/sub link
   * was down). `stillStored` answers which key hashes still exist.
   */
  async recheckKeys(stillStored: (hashes: string[]) => Promise<Set<string>>): Promise<number> {
    const byHash = new Map<string, Reader[]>();
    for (const r of this.readers) {
      const p = this.principals.get(r);
      if (p?.kind !== 'key' || p.keyHash === undefined) continue;
      const list = byHash.get(p.keyHash);
      if (list) list.push(r);
      else byHash.set(p.keyHash, [r]);
    }
    if (byHash.size === 0) return 0;
    const stored = await stillStored([...byHash.keys()]);
    let n = 0;
    for (const [hash, readers] of byHash) {
      if (stored.has(hash)) continue;
      for (const r of readers) {
        r.close(CLOSE.badCredential, 'credential revoked');
        this.closeReader(r);
        n++;
      }
    }
    if (n) this.deps.log.info({ readers: n }, 'closed readers whose API key was revoked (found on re-check)');
    return n;
  }

  /** Frees everything a reader held; safe to call more than once. */
  closeReader(reader: Reader): void {
    if (!this.readers.delete(reader)) return;
    this.deps.log.debug({ connectionId: reader.id }, 'reader closed');
    for (const t of reader.topics) this.hub.remove(reader, t);
  }

  /** Stops accepting, closes readers with 1001 and stops the tail; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.accepting = false;
      for (const r of [...this.readers]) r.close(CLOSE.shuttingDown, 'server shutting down; reconnect and resume');
      await this.tail.stop();
      await this.writes?.stop();
      await this.reports.stop();
    })();
    return this.stopping;
  }
}
