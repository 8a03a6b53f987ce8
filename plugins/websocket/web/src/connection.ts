// One WebSocket session with parleyd's bridge (PROTOCOL.md §8): subprotocol
// parley.v1, one binary message per Envelope. Requests are matched to their
// Responses by id; Events go to a single listener. The session says
// sys.hello itself, then hands over to `onReady` so the app can
// authenticate. It reconnects with backoff until closed on purpose.
import * as proto from './proto';

export class CallError extends Error {
  constructor(public readonly method: string, public readonly status: number, message: string) {
    super(message || proto.statusName(status));
  }
  get statusName(): string {
    return proto.statusName(this.status);
  }
}

export type ConnState = 'connecting' | 'online' | 'offline';

export interface ConnectionHandlers {
  onReady(welcome: proto.Welcome): void;          // after each successful sys.hello
  onEvent(method: string, payload: Uint8Array): void;
  onState(state: ConnState, detail?: string): void;
}

interface Pending {
  method: string;
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
  timer: number;
}

const CALL_TIMEOUT_MS = 20000;
const PING_EVERY_MS = 25000;   // well under the server's default idle timeout (120 s)
const MAX_BACKOFF_MS = 15000;

export function defaultUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

export class Connection {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private pingTimer = 0;
  private retryTimer = 0;
  private backoff = 500;
  private stopped = false;

  constructor(private readonly url: string, private readonly handlers: ConnectionHandlers) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  // Sends a Request and resolves with the Response payload, or rejects with a
  // CallError carrying the status when it is not Ok.
  call(method: string, payload: Uint8Array | null = null): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new CallError(method, proto.Status.Unavailable, 'not connected'));
        return;
      }
      const id = this.nextId++;
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new CallError(method, proto.Status.Timeout, 'the server did not answer in time'));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { method, resolve, reject, timer });
      ws.send(proto.encodeRequest(id, method, payload));
    });
  }

  get online(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  private open(): void {
    this.handlers.onState('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, 'parley.v1');
    } catch (e) {
      this.scheduleRetry(String(e));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => void this.greet(ws);
    ws.onmessage = (ev: MessageEvent) => this.receive(ev.data);
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failAll('the connection closed');
      window.clearInterval(this.pingTimer);
      if (!this.stopped) this.scheduleRetry(ev.reason || `closed (${ev.code})`);
    };
  }

  private async greet(ws: WebSocket): Promise<void> {
    try {
      const welcome = proto.readWelcome(await this.call('sys.hello', proto.hello('parley-web/0.1')));
      this.backoff = 500;
      this.pingTimer = window.setInterval(() => {
        this.call('sys.ping').catch(() => undefined);
      }, PING_EVERY_MS);
      this.handlers.onState('online');
      this.handlers.onReady(welcome);
    } catch (e) {
      ws.close();
      this.handlers.onState('offline', e instanceof Error ? e.message : String(e));
    }
  }

  private receive(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;  // the bridge only sends binary messages
    let e: proto.Envelope;
    try {
      e = proto.decodeEnvelope(new Uint8Array(data));
    } catch {
      console.warn('parley: dropped a message that is not an Envelope');
      return;
    }
    if (e.kind === proto.Kind.Response) {
      const p = this.pending.get(e.id);
      if (!p) return;
      this.pending.delete(e.id);
      window.clearTimeout(p.timer);
      if (e.status === proto.Status.Ok) p.resolve(e.payload);
      else p.reject(new CallError(p.method, e.status, e.error));
    } else if (e.kind === proto.Kind.Event) {
      if (e.method === 'sys.closing') {
        console.warn(`parley: server is closing the session: ${proto.statusName(e.status)} ${e.error}`);
      }
      this.handlers.onEvent(e.method, e.payload);
    }
  }

  private failAll(reason: string): void {
    for (const p of this.pending.values()) {
      window.clearTimeout(p.timer);
      p.reject(new CallError(p.method, proto.Status.Unavailable, reason));
    }
    this.pending.clear();
  }

  private scheduleRetry(reason: string): void {
    this.handlers.onState('offline', reason);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.open(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }
}
