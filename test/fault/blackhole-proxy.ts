/**
 * A TCP proxy in front of a test's redis-server that can make its existing
 * connections half-open, as a NAT, firewall or load balancer that dropped
 * their state would: on blackhole(), every connection open at that moment
 * stops forwarding bytes in both directions and is never closed (no FIN, no
 * RST reaches either end, whatever the ends do), while new connections are
 * still accepted and forwarded as usual.
 */
import net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  holed: boolean;
}

export class BlackholeProxy {
  private readonly links = new Set<Link>();
  private readonly server: net.Server;
  private listening: Promise<number>;
  /** Connections accepted so far, and how many were black-holed. */
  accepted = 0;
  holed = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.onConnection(client));
    this.listening = new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  static forUrl(redisUrl: string): BlackholeProxy {
    const u = new URL(redisUrl);
    return new BlackholeProxy({ host: u.hostname, port: Number(u.port) });
  }

  /** redis:// URL of the proxy, once listening. */
  async url(): Promise<string> {
    return `redis://127.0.0.1:${await this.listening}`;
  }

  private onConnection(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect({ ...this.target, allowHalfOpen: true });
    const link: Link = { client, upstream, holed: false };
    this.links.add(link);
    const pair = (from: net.Socket, to: net.Socket) => {
      from.on('data', (d) => {
        if (!link.holed) to.write(d);
      });
      // A healthy link passes closes on; a black-holed one swallows them.
      from.on('end', () => {
        if (!link.holed) to.end();
      });
      from.on('close', () => {
        if (!link.holed) to.destroy();
        if (client.destroyed && upstream.destroyed) this.links.delete(link);
      });
      from.on('error', () => undefined);
    };
    pair(client, upstream);
    pair(upstream, client);
  }

  /** Makes every connection open now half-open; later ones are forwarded. */
  blackhole(): number {
    let n = 0;
    for (const l of this.links) {
      if (l.holed || l.client.destroyed) continue;
      l.holed = true;
      n++;
    }
    this.holed += n;
    return n;
  }

  async close(): Promise<void> {
    for (const l of this.links) {
      l.client.destroy();
      l.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
