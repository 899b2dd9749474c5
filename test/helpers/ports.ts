/** Free TCP ports on loopback, for processes that must be told their port up front. */
import net from 'node:net';

/** A port nothing listens on now; the caller binds it soon after (another process could take it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
