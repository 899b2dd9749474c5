import type { ServerResponse } from 'node:http';
import { PROBLEMS, describeBytes, problemBody, problemSchema, problemType, writeProblem, type ProblemCode } from '../../src/http/problem';

/** Records what a response was told: enough of ServerResponse for the writer. */
function response() {
  const seen = { status: 0, headers: {} as Record<string, unknown>, body: '' };
  const res = {
    writeHead(status: number, headers: Record<string, unknown>) {
      seen.status = status;
      seen.headers = headers;
      return res;
    },
    end(text: string) {
      seen.body = text;
    },
  };
  return { res: res as unknown as ServerResponse, seen };
}

describe('problem documents', () => {
  it('gives every status one type however many codes share it (a 503 is always …/unavailable)', () => {
    const codes = Object.keys(PROBLEMS) as ProblemCode[];
    expect(codes.filter((c) => PROBLEMS[c].status === 503).map(problemType)).toEqual(['https://flashwire.dev/problems/unavailable']);
    expect(new Set(codes.map(problemType)).size).toBe(codes.length);
  });

  it('builds a body the published schema accepts, with field errors when given', () => {
    const body = problemBody('bad_request', 'some topics are not valid', { errors: [{ path: 'topics', message: 'bad' }], instance: '/v1/events' });
    expect(problemSchema.parse(body)).toEqual({
      type: 'https://flashwire.dev/problems/bad-request',
      title: 'Bad Request',
      status: 400,
      detail: 'some topics are not valid',
      instance: '/v1/events',
      errors: [{ path: 'topics', message: 'bad' }],
    });
  });

  it('writes status, content type, extra headers and the document', () => {
    const { res, seen } = response();
    writeProblem(res, 'unavailable', 'Redis cannot be reached', { headers: { 'Retry-After': '1' } });
    expect(seen.status).toBe(503);
    expect(seen.headers).toMatchObject({ 'Content-Type': expect.stringMatching(/^application\/problem\+json/), 'Retry-After': '1', 'Content-Length': Buffer.byteLength(seen.body) });
    expect(JSON.parse(seen.body)).toEqual({ type: 'https://flashwire.dev/problems/unavailable', title: 'Service Unavailable', status: 503, detail: 'Redis cannot be reached' });
  });

  it('writes sizes as people do', () => {
    expect(describeBytes(64 * 1024)).toBe('64 KiB');
    expect(describeBytes(1024 * 1024)).toBe('1 MiB');
    expect(describeBytes(1500)).toBe('1500 bytes');
  });
});
