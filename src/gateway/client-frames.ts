/**
 * Parsing what readers send. Every failure has a stable code and a message
 * that says how to fix the frame.
 */
import { clientFrameSchema, CLIENT_FRAME_TYPES, type ClientFrame } from '../protocol/frames';

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; message: string };

export function parseClientFrame(data: Buffer | string, isBinary: boolean): ParsedFrame {
  if (isBinary) return { ok: false, message: 'binary frames are not accepted; send JSON text' };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { ok: false, message: 'the frame is not valid JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, message: 'a frame is a JSON object with a "type"' };
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    return { ok: false, message: `unknown frame type ${JSON.stringify(type)}; expected one of ${CLIENT_FRAME_TYPES.join(', ')}` };
  }
  const parsed = clientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : `${i.path.join('.') || 'frame'} ${i.message}`)).join('; ');
    return { ok: false, message: `invalid ${type} frame: ${msg}` };
  }
  return { ok: true, frame: parsed.data };
}
