/**
 * Absence is proved with a later event, never with a pause: the feed is
 * ordered, so once a marker posted afterwards has reached a reader, nothing
 * that entered the feed before it can still reach that reader.
 */
import { randomBytes } from 'node:crypto';
import { postAlert, type TestReader } from './clients';

/**
 * Posts a routine alert on `topics` and resolves with its id once every
 * reader has it. Routine is the lowest priority, so the queue takes it after
 * anything still waiting there.
 */
export async function passMarker(baseUrl: string, readers: TestReader[], topics: string[], headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<string> {
  const r = await postAlert(baseUrl, { headline: `marker ${randomBytes(4).toString('hex')}`, topics, priority: 'routine' }, headers);
  if (r.status !== 202) throw new Error(`marker: ${r.status} ${JSON.stringify(r.body)}`);
  const id = r.body.id as string;
  await Promise.all(readers.map((reader) => reader.waitFor((f) => f.type === 'alert' && f.alert.id === id, timeoutMs)));
  return id;
}

/** The frames a reader got before the marker `markerId`. */
export function framesBefore(reader: TestReader, markerId: string): any[] {
  const i = reader.frames.findIndex((f) => f.type === 'alert' && f.alert.id === markerId);
  return i < 0 ? [...reader.frames] : reader.frames.slice(0, i);
}
