import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './ports.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActiveForward, FaultContext } from './fault-context.ts';
import type { FaultDecision } from './fault-policy.ts';
import { faultAnswer } from './fault-responses.ts';
import { forwardHttp, withoutHopByHop } from './http-forward.ts';
import { Valve } from './valve.ts';

/** A listening HTTP fault proxy (see `startFaultProxy`). */
export interface HttpFaultServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A reverse proxy (`node:http`, as the recording proxy) that decides per request: forward it,
 * or inject the fault the policy chose. Request framing comes from `node:http`, so a fault
 * lands on a request boundary even on keep-alive connections that carry many requests.
 */
export async function startHttpFaultServer(ctx: FaultContext, target: URL): Promise<HttpFaultServer> {
  const agent = new Agent({ keepAlive: true });
  let requestId = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const gate = ctx.passGate();
    if (gate) {
      req.pause();
      await gate;
    }
    const decision = ctx.policy.decide();
    ctx.record(decision, `${req.method} ${req.url}`);
    if (!decision) {
      forward(req, res, expectsContinue);
      return;
    }
    const id = `fault-${++requestId}`;
    switch (decision.kind) {
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'stall':
        // Nothing read, nothing answered: the client's upload backs up in the socket buffers.
        req.pause();
        ctx.stall(decision.until!, () => req.socket.destroy());
        return;
      case 'slow':
        await sleep(ctx.settings.slowDelayMs);
        if (req.socket.destroyed) return;
        forward(req, res, expectsContinue, ctx.settings.slowBytesPerSecond);
        return;
      case 'truncate':
        forward(req, res, expectsContinue, undefined, decision);
        return;
      case 'status-500':
      case 'status-503':
      case 'slowdown': {
        const answer = faultAnswer(decision.kind, ctx.settings.dialect, id);
        const send = () => res.writeHead(answer.status, answer.headers).end(answer.body);
        if (expectsContinue) {
          // The body was never invited: answer at once and close, so it is never read as a request.
          res.shouldKeepAlive = false;
          send();
        } else {
          // As a server does: read the request to its end, then refuse it.
          req.resume();
          if (req.complete) send();
          else req.once('end', send);
        }
        return;
      }
    }
  };

  /** Forwards through a valve in each direction (throttled when `bytesPerSecond` is set). */
  const forward = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean, bytesPerSecond?: number, truncate?: FaultDecision) => {
    const valveOptions = bytesPerSecond === undefined ? {} : { bytesPerSecond };
    const valves = [new Valve(valveOptions), new Valve(valveOptions)] as const;
    let upstream: ReturnType<typeof forwardHttp> | undefined;
    const active: ActiveForward = {
      valves,
      drop: () => {
        req.socket.destroy();
        upstream?.destroy();
      },
    };
    ctx.active.add(active);
    res.once('close', () => ctx.active.delete(active));
    upstream = forwardHttp(req, res, {
      target,
      agent,
      expectsContinue,
      requestBody: valves[0],
      responseBody: valves[1],
      ...(truncate ? { onResponse: (upstreamRes: IncomingMessage) => cutShort(req, res, upstreamRes, truncate.fraction) } : {}),
      // The upstream is down: the client sees its connection dropped, as with a dead server.
      onUpstreamError: () => req.socket.destroy(),
    });
  };

  const server: Server = createServer({ keepAliveTimeout: 5000 });
  server.on('request', (req, res) => void handle(req, res, false));
  // Without this listener Node answers `100 Continue` itself, before the upstream has decided.
  server.on('checkContinue', (req, res) => void handle(req, res, true));
  const port = await listenOnLoopback(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/**
 * Passes on the upstream's status and headers and part of its body, then closes the
 * connection: with a known length, between 10% and 90% of it; with a chunked body, all of it
 * but the final chunk; with no body (HEAD, an empty 200), nothing at all — the request took
 * effect upstream, but its answer is lost.
 */
function cutShort(req: IncomingMessage, res: ServerResponse, upstreamRes: IncomingMessage, fraction: number): true {
  const socket = req.socket;
  // end(), not destroy(): what was written still goes out, then the connection closes.
  const kill = () => {
    socket.end();
    upstreamRes.destroy();
  };
  const length = Number(upstreamRes.headers['content-length']);
  const chunked = upstreamRes.headers['content-length'] === undefined && req.method !== 'HEAD' && upstreamRes.statusCode !== 204 && upstreamRes.statusCode !== 304;
  if (!chunked && !(length > 0 && req.method !== 'HEAD')) {
    upstreamRes.resume();
    kill();
    return true;
  }
  res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, withoutHopByHop(upstreamRes.rawHeaders));
  if (chunked) {
    upstreamRes.on('data', (chunk: Buffer) => res.write(chunk));
    upstreamRes.once('end', kill);
    return true;
  }
  const cutAt = Math.min(length - 1, Math.max(1, Math.floor(length * (0.1 + 0.8 * fraction))));
  let sent = 0;
  upstreamRes.on('data', (chunk: Buffer) => {
    if (sent >= cutAt) return;
    const part = chunk.subarray(0, cutAt - sent);
    sent += part.byteLength;
    if (sent >= cutAt) res.write(part, kill);
    else res.write(part);
  });
  return true;
}
