/**
 * The bench's POST client: the answer's status and body come back whole,
 * headers go with every request, and spaced POSTs reuse one kept-alive
 * connection (a new connection per alert would put a handshake into every
 * timed POST).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
