/**
 * A free TCP port on 127.0.0.1, for servers a test starts (Prometheus, fixtures).
 *
 * The kernel picks the port (listen on 0), we read it back and close the socket. Another
 * process can take it before the caller binds it; callers that spawn a server which may lose
 * that race (see `prometheus.ts`) retry with a new port on "address already in use".
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
