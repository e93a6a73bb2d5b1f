/** Starts and stops the HTTP listener. */
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** How long requests in flight may take to finish once the server closes. */
const CLOSE_GRACE_MS = 10_000;

/** A listening server. */
export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on `port` (0 picks a free one); resolves once listening. */
export function listen(app: Express, port: number, host?: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host ?? '0.0.0.0');
    // Answers not sent yet: once closing, each closes its connection, so keep-alive clients let go.
    const pending = new Set<ServerResponse>();
    let closing = false;
    server.prependListener('request', (_req, res: ServerResponse) => {
      if (closing) res.setHeader('Connection', 'close');
      pending.add(res);
      res.once('close', () => pending.delete(res));
    });
    server.once('error', reject);
    server.once('listening', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        // A keep-alive client that keeps sending would hold the server open for ever: once closing, every
        // answer closes its connection; whatever is still open after the grace period is cut.
        close: () =>
          new Promise<void>((done, fail) => {
            closing = true;
            for (const res of pending) if (!res.headersSent) res.setHeader('Connection', 'close');
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
          }),
      });
    });
  });
}
