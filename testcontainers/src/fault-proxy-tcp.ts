import { connect, createServer, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from './ports.ts';
import type { ActiveForward, FaultContext } from './fault-context.ts';
import type { FaultDecision } from './fault-policy.ts';
import { Valve } from './valve.ts';

/** A listening TCP fault proxy (see `startFaultProxy`). */
export interface TcpFaultServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A byte-level proxy for any TCP service (NATS, SFTP, …) that decides per connection: forward
 * it, or inject the fault the policy chose. It knows nothing of the protocol, so its faults
 * are the raw ones: reset, stall, slow, truncate (the server's bytes cut after a few).
 */
export async function startTcpFaultServer(ctx: FaultContext, target: { host: string; port: number }): Promise<TcpFaultServer> {
  let connections = 0;
  const sockets = new Set<Socket>();

  const handle = async (client: Socket) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const gate = ctx.passGate();
    if (gate) {
      client.pause();
      await gate;
    }
    const decision = ctx.policy.decide();
    ctx.record(decision, `connection ${++connections}`);
    if (!decision) {
      forward(client);
      return;
    }
    switch (decision.kind) {
      case 'reset':
        client.resetAndDestroy();
        return;
      case 'stall':
        client.pause();
        ctx.stall(decision.until!, () => client.destroy());
        return;
      case 'slow':
        forward(client, { bytesPerSecond: ctx.settings.slowBytesPerSecond, delayMs: ctx.settings.slowDelayMs });
        return;
      case 'truncate':
        forward(client, {}, decision);
        return;
      default:
        // The policy only deals the kinds a TCP proxy allows.
        client.destroy();
    }
  };

  const forward = (client: Socket, throttle: { bytesPerSecond?: number; delayMs?: number } = {}, truncate?: FaultDecision) => {
    const toServer = new Valve(throttle);
    const toClient = new Valve(throttle);
    const upstream = connect({ host: target.host, port: target.port });
    sockets.add(upstream);
    const active: ActiveForward = {
      valves: [toServer, toClient],
      drop: () => {
        client.destroy();
        upstream.destroy();
      },
    };
    ctx.active.add(active);
    upstream.once('close', (hadError) => {
      ctx.active.delete(active);
      sockets.delete(upstream);
      // A refused or reset upstream drops the client too; a clean close ends it through the pipe.
      if (hadError) client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    // Nobody is left to read the server's answer.
    client.once('close', () => upstream.destroy());
    client.pipe(toServer).pipe(upstream);
    if (!truncate) {
      upstream.pipe(toClient).pipe(client);
      return;
    }
    // Some of the server's bytes reach the client, then the connection closes.
    const cutAt = 1 + Math.floor(truncate.fraction * ctx.settings.truncateBytes);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (sent >= cutAt) return;
      const part = chunk.subarray(0, cutAt - sent);
      sent += part.byteLength;
      if (sent < cutAt) client.write(part);
      else
        client.end(part, () => {
          client.destroy();
          upstream.destroy();
        });
    });
  };

  const server: Server = createServer((client) => void handle(client));
  const port = await listenOnLoopback(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
