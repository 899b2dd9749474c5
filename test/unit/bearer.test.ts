import { bearerCredential } from '../../src/auth/bearer';

describe('bearerCredential', () => {
  it('reads the credential of a Bearer header, whatever the scheme case and trailing space', () => {
    expect(bearerCredential('Bearer fw_abc')).toBe('fw_abc');
    expect(bearerCredential('bearer   fw_abc  ')).toBe('fw_abc');
    expect(bearerCredential('BEARER eyJ.a.b')).toBe('eyJ.a.b');
  });

  it('finds none without a header, with another scheme, or with no single credential', () => {
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'Token fw_abc', ' Bearer fw_abc']) {
      expect({ h, got: bearerCredential(h) }).toEqual({ h, got: undefined });
    }
  });
});
