/** An SSE stream read as EventSource would: each event's data, as parsed frames, until closed. */
import http from 'node:http';

export interface SseFrames {
  status: number;
  frames: any[];
  close(): void;
}

export function openSseFrames(baseUrl: string, query: Record<string, string>, headers: Record<string, string>): Promise<SseFrames> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/v1/events?${new URLSearchParams(query)}`, { headers }, (res) => {
      const frames: any[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const data = buf.slice(0, cut).split('\n').find((l) => l.startsWith('data: '));
          buf = buf.slice(cut + 2);
          if (data) frames.push(JSON.parse(data.slice(6)));
        }
      });
      res.on('error', () => undefined);
      resolve({ status: res.statusCode ?? 0, frames, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}
