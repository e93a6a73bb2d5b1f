/** Starts and stops the HTTP listener. */
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** A listening server. */
export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on `port` (0 picks a free one); resolves once listening. */
export function listen(app: Express, port: number, host?: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host ?? '0.0.0.0');
    server.once('error', reject);
    server.once('listening', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
