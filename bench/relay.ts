/**
 * A loopback TCP relay that gives a local server a network's round-trip time: a new connection is
 * held one round trip before its first byte is read (connection set-up), and every byte the server
 * answers reaches the client one round trip after it was sent (a request waits for its answer one
 * round trip more than on loopback). Bytes keep their order; nothing is parsed, so HTTP/1.1
 * keep-alive, pipelining and TLS behave as they would across the network.
 */
import net from 'node:net';

export type Relay = { origin: string; close: () => Promise<void> };

export async function startRelay(target: URL, rttMs: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.pause();
    let upstream: net.Socket | undefined;
    const end = () => {
      client.destroy();
      upstream?.destroy();
    };
    client.on('error', end).on('close', () => {
      sockets.delete(client);
      end();
    });
    setTimeout(() => {
      if (client.destroyed) return;
      upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(upstream);
      upstream.on('error', end).on('close', () => {
        sockets.delete(upstream!);
        // The last answer is still on its way: close once it has arrived.
        setTimeout(() => client.end(), rttMs);
      });
      upstream.on('data', (chunk) => setTimeout(() => client.destroyed || client.write(chunk), rttMs));
      client.on('data', (chunk) => upstream!.write(chunk));
      client.on('end', () => upstream!.end());
      client.resume();
    }, rttMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `${target.protocol}//127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
