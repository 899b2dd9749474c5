/**
 * The bench's POST client: the answer's status and body come back whole,
 * headers go with every request, and spaced POSTs reuse one kept-alive
 * connection (a new connection per alert would put a handshake into every
 * timed POST). A kept-alive connection the server drops as the next
 * request lands is retried once on a new one; nothing else is.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Poster } from '../../bench/post';

describe('the bench POST client', () => {
  let server: http.Server;
  let url: string;
  let connections = 0;
  const seen: { auth?: string; type?: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ auth: req.headers.authorization, type: req.headers['content-type'], body });
        res.writeHead(body.includes('bad') ? 422 : 202, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ echoed: body.length, long: 'x'.repeat(100_000) }));
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('returns status and whole body, sends the headers, and keeps one connection', async () => {
    const poster = new Poster(url, { Authorization: 'Bearer k' });
    try {
      const a = await poster.post('/v1/alerts', '{"headline":"é"}');
      const b = await poster.post('/v1/alerts', '{"bad":1}');
      expect(a.status).toBe(202);
      expect(b.status).toBe(422);
      expect(JSON.parse(a.body)).toMatchObject({ echoed: 16 });
      expect((JSON.parse(b.body) as { long: string }).long).toHaveLength(100_000);
      expect(seen.map((s) => s.body)).toEqual(['{"headline":"é"}', '{"bad":1}']);
      expect(seen.every((s) => s.auth === 'Bearer k' && s.type === 'application/json')).toBe(true);
      expect(connections).toBe(1);
    } finally {
      poster.close();
    }
  });

  it('gives concurrent POSTs a connection each, as a burst sends them', async () => {
    const before = connections;
    const poster = new Poster(url);
    try {
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => poster.post('/', `{"n":${i}}`)));
      expect(answers.every((a) => a.status === 202)).toBe(true);
      expect(connections - before).toBe(16);
    } finally {
      poster.close();
    }
  });

  /**
   * A bare server that answers each connection's first request and resets
   * the connection when its second one lands, without answering: what a
   * server's keep-alive timer does when it fires as the request arrives.
   * `resetFirst` resets the first request too.
   */
  async function droppingServer(resetFirst = false): Promise<{ url: string; answered: string[]; resets: number; close: () => Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      let requests = 0;
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (text.length < end + 4 + length) return;
        const body = text.slice(end + 4, end + 4 + length);
        text = '';
        if (++requests > 1 || resetFirst) {
          dropping.resets++;
          socket.resetAndDestroy();
          return;
        }
        dropping.answered.push(body);
        socket.write('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}');
      });
    });
    const dropping = {
      url: '',
      answered: [] as string[],
      resets: 0,
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
    };
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    dropping.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    return dropping;
  }

  it('sends a POST again, once, on a new connection when a kept-alive one is dropped as it lands', async () => {
    const srv = await droppingServer();
    const poster = new Poster(srv.url);
    try {
      expect((await poster.post('/', '{"n":1}')).status).toBe(202);
      // The second goes out on the kept-alive connection, which the server resets unread.
      expect((await poster.post('/', '{"n":2}')).status).toBe(202);
      expect(srv.answered).toEqual(['{"n":1}', '{"n":2}']);
      expect(srv.resets).toBe(1);
    } finally {
      poster.close();
      await srv.close();
    }
  });

  it('does not send again when a new connection is reset: the server may have read it', async () => {
    const srv = await droppingServer(true);
    const poster = new Poster(srv.url);
    try {
      await expect(poster.post('/', '{"n":1}')).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(srv.resets).toBe(1);
    } finally {
      poster.close();
      await srv.close();
    }
  });

  it('rejects when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const poster = new Poster(`http://127.0.0.1:${port}`);
    await expect(poster.post('/', '{}')).rejects.toThrow(/ECONNREFUSED/);
    poster.close();
  });
});
