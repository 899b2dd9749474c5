/**
 * The bench's HTTP client for timed POSTs: `node:http` with kept-alive
 * connections, so spaced POSTs go one after another over one connection
 * and a burst's concurrent POSTs each have their own, as many as are in
 * flight.
 *
 * `fetch` (undici) cost the bench 2.3–2.8 ms of CPU per POST on the
 * 2-core machine, against a few tenths of a millisecond for the floor's
 * PUBLISH, and that CPU is spent while the alert fans out: the
 * instrument took a core's share from the service it measures. A real
 * newsroom posts from another machine. Both sides of every POST
 * comparison (Flashwire and the accept floor) go through this client.
 */
import http from 'node:http';

export interface PostAnswer {
  status: number;
  body: string;
}

export class Poster {
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly url: URL;

  constructor(
    url: string,
    private readonly headers: Record<string, string> = {},
  ) {
    this.url = new URL(url);
  }

  /**
   * POSTs a JSON body and reads the whole answer. A kept-alive connection
   * the server closed while it sat idle (alerts spaced past its keep-alive
   * timeout, with this process too busy to see the close in time) fails as
   * ECONNRESET before any answer: the server never read that request, so it
   * is sent once more, on a new connection (`mayResend` false for that
   * one, so it is sent at most twice).
   */
  post(path: string, body: string, mayResend = true): Promise<PostAnswer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path,
          method: 'POST',
          headers: { ...this.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`POST ${this.url.origin}${path} not answered within 30 s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (mayResend && req.reusedSocket && err.code === 'ECONNRESET') resolve(this.post(path, body, false));
        else reject(err);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
