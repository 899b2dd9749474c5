/**
 * The Node client package declares the service's shapes as plain types (it
 * carries no server code). These assignments are checked by the type-check
 * (`tsc -p test/tsconfig.json`): if the server's schemas and the client's
 * types drift apart, it fails.
 */
import type * as client from '../../clients/node/src';
import type { AlertPatch, AlertPayload, AlertResource, AlertStatus, Priority } from '../../src/alert/schema';
import type { AlertFrame, RetractFrame, UpdateFrame, WelcomeFrame } from '../../src/protocol/frames';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('the Node client types', () => {
  it('match the server schemas both ways', () => {
    const checks: true[] = [
      true as Same<client.Priority, Priority>,
      true as Same<client.AlertStatus, AlertStatus>,
      true as Same<client.AlertPayload, AlertPayload>,
      true as Same<client.AlertResource, AlertResource>,
      true as Same<client.AlertPatch, AlertPatch>,
      true as Same<client.AlertFrame, AlertFrame>,
      true as Same<client.UpdateFrame, UpdateFrame>,
      true as Same<client.RetractFrame, RetractFrame>,
      true as Same<client.WelcomeFrame, WelcomeFrame>,
    ];
    expect(checks.every(Boolean)).toBe(true);
  });
});
