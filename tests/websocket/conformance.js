// WebSocket conformance of the bridge (plugins/websocket) in the style of the
// Autobahn test suite, sections 1-7, 9 and 10, driven by a raw-frame client
// (node's `net` only: every byte on the wire is chosen here, including
// invalid ones no WebSocket library would send).
//
//   node conformance.js <port> <max_message_bytes> [case-id-prefix...]
//   CONFORMANCE_TLS=1: over wss:// (the listener has cert and key)
//
// Expected results follow RFC 6455 and PROTOCOL.md §8 (docs/websocket.md):
// the bridge carries one Envelope per binary message, so where Autobahn
// expects an echo of a binary message this driver sends a sys.ping Envelope
// (padded to the case's size) and expects its Response; a text message is
// refused with close 1003 once it is complete and valid UTF-8; invalid UTF-8
// fails the connection with 1007 as soon as the offending byte arrives;
// protocol violations fail it with 1002 (and no later frame is processed:
// a ping sent after the violation gets no pong); a message above
// max_message_bytes fails it with 1009; a binary message that is not an
// Envelope gets the event sys.closing (Malformed) and close 1002.
//
// Every case ends with a closing handshake initiated by whichever side the
// case expects, and the server closing the TCP connection. After each case a
// fresh connection must complete sys.hello (the server still serves).
// Prints one line per failure and `conformance: N cases, P passed, F failed`.
'use strict';
const net = require('net');
const tls = require('tls');
const crypto = require('crypto');

const PORT = Number(process.argv[2]);
const MAX = Number(process.argv[3] || 262144);
const FILTER = process.argv.slice(4);
const VERBOSE = !!process.env.CONFORMANCE_VERBOSE;
const TLS = process.env.CONFORMANCE_TLS === '1';
if (!PORT) {
  console.error('usage: node conformance.js <port> <max_message_bytes> [case-id-prefix...]');
  process.exit(2);
}

const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const utf8 = (s) => Buffer.from(s, 'utf8');
const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ------------------------------------------------------------- frames ---

// One client frame. `mask: false` sends it unmasked (a violation);
// `len64hi` forces the 64-bit length form with that high word; `declared`
// announces a longer payload than `payload` (only its start is sent).
function frame({ op, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, len64hi, declared }) {
  const len = payload.length;
  let head;
  if (len64hi !== undefined || declared !== undefined) {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(declared !== undefined ? BigInt(declared) : (BigInt(len64hi >>> 0) << 32n) + BigInt(len), 2);
  } else if (len < 126) {
    head = Buffer.alloc(2);
    head[1] = len;
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    head.writeUInt32BE(len >>> 0, 6);
  }
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (op & 0x0f);
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}
const closeFrame = (code, reason = Buffer.alloc(0), extra = {}) => {
  if (code === undefined) return frame({ op: OP.CLOSE, ...extra });
  const p = Buffer.alloc(2);
  p.writeUInt16BE(code);
  return frame({ op: OP.CLOSE, payload: Buffer.concat([p, reason]), ...extra });
};

// ---------------------------------------------------------- envelopes ---

// A Request Envelope (protocol/envelope.fbs) laid out by hand, every scalar
// aligned to its size from the buffer start, exactly `size` bytes when given
// (the payload vector is padded; the smallest is ENVELOPE_MIN bytes).
const ENVELOPE_MIN = 68;
function envelope({ id, method = 'sys.ping', payload, size }) {
  const m = utf8(method);
  const strEnd = 48 + 4 + m.length + 1;
  const vecAt = (strEnd + 3) & ~3;
  let body = payload || Buffer.alloc(0);
  if (size !== undefined) body = Buffer.alloc(size - vecAt - 4, 0x5a);
  const b = Buffer.alloc(vecAt + 4 + body.length);
  b.writeUInt32LE(24, 0);          // root table
  b.write('PRLY', 4, 'latin1');    // file identifier
  // vtable at 8: size 16, table size 24, fields kind id method status error payload
  [16, 24, 4, 8, 16, 6, 0, 20].forEach((v, i) => b.writeUInt16LE(v, 8 + 2 * i));
  b.writeInt32LE(24 - 8, 24);      // table → vtable
  b[28] = 0;                       // kind Request
  b.writeUInt16LE(0, 30);          // status
  b.writeBigUInt64LE(BigInt(id), 32);
  b.writeUInt32LE(48 - 40, 40);    // method → string at 48
  b.writeUInt32LE(vecAt - 44, 44); // payload → vector
  b.writeUInt32LE(m.length, 48);
  m.copy(b, 52);
  b.writeUInt32LE(body.length, vecAt);
  body.copy(b, vecAt + 4);
  return b;
}
// sys.Hello { protocol: 1, client: "conformance" } with identifier PSYS.
function helloPayload() {
  const c = utf8('conformance');
  const b = Buffer.alloc(28 + 4 + c.length + 1);
  b.writeUInt32LE(16, 0);
  b.write('PSYS', 4, 'latin1');
  [8, 12, 4, 8].forEach((v, i) => b.writeUInt16LE(v, 8 + 2 * i));
  b.writeInt32LE(8, 16);
  b.writeUInt16LE(1, 20);          // protocol
  b.writeUInt32LE(28 - 24, 24);    // client → string at 28
  b.writeUInt32LE(c.length, 28);
  c.copy(b, 32);
  return b;
}
// Reads kind, id, method and status of a server Envelope (null if it is not one).
function parseEnvelope(buf) {
  try {
    const t = buf.readUInt32LE(0);
    const vt = t - buf.readInt32LE(t);
    const vtSize = buf.readUInt16LE(vt);
    const field = (i) => (4 + 2 * i < vtSize ? buf.readUInt16LE(vt + 4 + 2 * i) : 0);
    const str = (o) => {
      if (!o) return '';
      const at = t + o + buf.readUInt32LE(t + o);
      return buf.toString('utf8', at + 4, at + 4 + buf.readUInt32LE(at));
    };
    return {
      kind: field(0) ? buf[t + field(0)] : 0,
      id: field(1) ? buf.readBigUInt64LE(t + field(1)) : 0n,
      method: str(field(2)),
      status: field(3) ? buf.readUInt16LE(t + field(3)) : 0,
    };
  } catch (e) {
    return null;
  }
}

// ---------------------------------------------------------- connection ---

let nextId = 1;

class Conn {
  constructor() {
    this.frames = [];        // data and control frames from the server, in order
    this.messages = [];      // reassembled data messages {op, payload}
    this.pongs = [];
    this.responses = [];     // parsed Envelopes of binary messages
    this.close = null;       // {code, reason} of the server's close frame
    this.afterClose = 0;     // frames the server sent after its close frame
    this.tcpClosed = false;
    this.problems = [];      // server-side framing violations seen here
    this.closeSent = false;
    this.buf = Buffer.alloc(0);
    this.partial = null;
    this.waiters = [];
  }

  static open() {
    return new Promise((resolve, reject) => {
      const c = new Conn();
      const key = crypto.randomBytes(16).toString('base64');
      const sock = TLS
        ? tls.connect({ port: PORT, host: '127.0.0.1', rejectUnauthorized: false })
        : net.connect(PORT, '127.0.0.1');
      c.sock = sock;
      let head = Buffer.alloc(0);
      let upgraded = false;
      const timer = setTimeout(() => reject(new Error('upgrade timed out')), 3000);
      sock.setNoDelay(true);
      sock.on(TLS ? 'secureConnect' : 'connect', () => {
        sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          'Sec-WebSocket-Protocol: parley.v1\r\n\r\n');
      });
      sock.on('data', (d) => {
        if (upgraded) return c.onData(d);
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        const text = head.slice(0, end).toString('latin1');
        const accept = crypto.createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!/^HTTP\/1\.1 101 /.test(text) || !text.includes(`Sec-WebSocket-Accept: ${accept}`) ||
            !/Sec-WebSocket-Protocol: parley\.v1/i.test(text)) {
          sock.destroy();
          return reject(new Error('bad upgrade response: ' + text.split('\r\n')[0]));
        }
        upgraded = true;
        resolve(c);
        if (head.length > end + 4) c.onData(head.slice(end + 4));
      });
      sock.on('error', (e) => {
        if (!upgraded) {
          clearTimeout(timer);
          reject(e);
        }
      });
      sock.on('close', () => {
        c.tcpClosed = true;
        c.wake();
      });
      sock.on('end', () => {
        // The server's FIN: finish our side too (half-open would linger).
        sock.end();
      });
    });
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b[1] & 0x80) this.problems.push('server frame is masked');
      if (b.length < at + len) break;
      const f = { fin: !!(b[0] & 0x80), rsv: (b[0] >> 4) & 7, op: b[0] & 0x0f, payload: b.slice(at, at + len) };
      this.buf = b.slice(at + len);
      this.onFrame(f);
    }
    this.wake();
  }

  onFrame(f) {
    if (this.close) this.afterClose++;
    if (f.rsv) this.problems.push('server frame with reserved bits');
    this.frames.push(f);
    if (f.op === OP.PING) {
      this.write(frame({ op: OP.PONG, payload: f.payload }));  // server keep-alive
    } else if (f.op === OP.PONG) {
      this.pongs.push(f.payload);
    } else if (f.op === OP.CLOSE) {
      if (f.payload.length === 1) this.problems.push('server close payload of 1 byte');
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      const reason = f.payload.slice(2);
      if (!isValidUtf8(reason)) this.problems.push('server close reason is not UTF-8');
      if (!this.close) this.close = { code, reason: reason.toString('utf8') };
    } else if (f.op === OP.TEXT || f.op === OP.BINARY) {
      if (f.fin) this.onMessage(f.op, f.payload);
      else this.partial = { op: f.op, parts: [f.payload] };
    } else if (f.op === OP.CONT && this.partial) {
      this.partial.parts.push(f.payload);
      if (f.fin) {
        this.onMessage(this.partial.op, Buffer.concat(this.partial.parts));
        this.partial = null;
      }
    } else {
      this.problems.push('unexpected server opcode ' + f.op);
    }
  }

  onMessage(op, payload) {
    this.messages.push({ op, payload });
    if (op !== OP.BINARY) return this.problems.push('server sent a text message');
    const env = parseEnvelope(payload);
    if (!env) return this.problems.push('server binary message is not an Envelope');
    this.responses.push(env);
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }
  // Resolves true once pred() holds, false after ms.
  async until(pred, ms) {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return true;
  }

  write(bytes) {
    if (this.tcpClosed || this.sock.destroyed) return;
    this.sock.write(bytes, () => {});
  }
  // Writes `bytes` in pieces of `size`, waiting `delay` ms between them.
  async writeChunked(bytes, size, delay = 0) {
    for (let i = 0; i < bytes.length; i += size) {
      this.write(bytes.slice(i, i + size));
      if (delay) await sleep(delay);
      else if (i % (64 * size) === 0) await sleep(0);
    }
  }
  sendClose(code, reason) {
    this.closeSent = true;
    this.write(closeFrame(code, reason));
  }
  destroy() {
    this.sock.destroy();
  }
}

function isValidUtf8(buf) {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch (e) {
    return false;
  }
}

// --------------------------------------------------------------- cases ---

// A case: { id, desc, run: async (c, ctx) => {...}, expect }. `expect`:
//   responses: n   Responses (to the sys.ping Envelopes sent) before the close
//   pongs: [...]   pong payloads, exactly these, in order
//   closing: true  the event sys.closing arrives before the close frame
//   close: code    the server closes with this code ('none': empty close
//                  payload); absent: the connection stays open, the driver
//                  closes with 1000 and expects the echo
//   echo: code     the driver initiated the close itself (inside run) and
//                  expects the server's close with this code
const cases = [];
const add = (id, desc, run, expect) => cases.push({ id, desc, run, expect });
const ping = (size) => envelope({ id: nextId++, size });
const binaryMsg = (size = ENVELOPE_MIN) => frame({ op: OP.BINARY, payload: ping(size) });
const textMsg = (s) => frame({ op: OP.TEXT, payload: typeof s === 'string' ? utf8(s) : s });

// Splits `payload` into frames of `size` bytes (first with `op`, then continuations).
function fragments(op, payload, size) {
  const out = [];
  for (let i = 0; i === 0 || i < payload.length; i += size) {
    const last = i + size >= payload.length;
    out.push(frame({ op: i === 0 ? op : OP.CONT, payload: payload.slice(i, i + size), fin: last }));
  }
  return Buffer.concat(out);
}

// 1 Framing: text and binary messages of the edge lengths.
const sizes = [0, 125, 126, 127, 128, 65535, 65536];
sizes.forEach((n, i) => add(`1.1.${i + 1}`, `text message of ${n} bytes`,
  (c) => c.write(textMsg(Buffer.alloc(n, 0x2a))), { close: 1003 }));
add('1.1.8', 'text message of 65536 bytes written in chunks of 997',
  (c) => c.writeChunked(textMsg(Buffer.alloc(65536, 0x2a)), 997), { close: 1003 });
add('1.2.1', 'binary message of 0 bytes (not an Envelope)',
  (c) => c.write(frame({ op: OP.BINARY })), { closing: true, close: 1002 });
sizes.slice(1).forEach((n, i) => add(`1.2.${i + 2}`, `binary message (Envelope) of ${n} bytes`,
  (c) => c.write(binaryMsg(n)), { responses: 1 }));
add('1.2.8', 'binary message of 65536 bytes written in chunks of 997',
  (c) => c.writeChunked(binaryMsg(65536), 997), { responses: 1 });
add('1.2.9', 'binary message of random bytes (not an Envelope)',
  (c) => c.write(frame({ op: OP.BINARY, payload: crypto.randomBytes(100) })), { closing: true, close: 1002 });
add('1.2.10', `binary message (Envelope) of exactly max_message_bytes (${MAX})`,
  (c) => c.write(binaryMsg(MAX)), { responses: 1 });
add('1.3.1', 'unmasked binary frame', (c) => c.write(frame({ op: OP.BINARY, payload: ping(), mask: false })),
  { close: 1002 });
add('1.3.2', 'unmasked close frame', (c) => c.write(closeFrame(1000, Buffer.alloc(0), { mask: false })),
  { close: 1002 });
add('1.3.3', 'unmasked ping frame', (c) => c.write(frame({ op: OP.PING, payload: utf8('x'), mask: false })),
  { close: 1002 });
add('1.3.4', '64-bit payload length with the most significant bit set',
  (c) => c.write(frame({ op: OP.BINARY, payload: Buffer.alloc(8), len64hi: 0x80000000 })), { close: 1002 });
add('1.3.5', 'payload length not in its shortest form (64-bit length for 68 bytes)',
  (c) => c.write(frame({ op: OP.BINARY, payload: ping(), len64hi: 0 })), { close: 1002 });
add('1.3.8', 'payload length not in its shortest form (16-bit length for 68 bytes)', (c) => {
  const f = frame({ op: OP.BINARY, payload: ping() });  // 2-byte header, mask, 68 bytes
  const head = Buffer.from([f[0], 0x80 | 126, 0, f[1] & 0x7f]);
  c.write(Buffer.concat([head, f.slice(2)]));
}, { close: 1002 });
add('1.3.6', 'two binary messages in one write', (c) => c.write(Buffer.concat([binaryMsg(), binaryMsg(200)])),
  { responses: 2 });
add('1.3.7', 'binary message (Envelope) written one byte at a time',
  (c) => c.writeChunked(binaryMsg(100), 1, 1), { responses: 1 });

// 2 Pings and pongs.
const pingFrame = (p) => frame({ op: OP.PING, payload: typeof p === 'string' ? utf8(p) : p });
add('2.1', 'ping without payload', (c) => c.write(pingFrame('')), { pongs: [''] });
add('2.2', 'ping with a small text payload', (c) => c.write(pingFrame('Hello, world!')), { pongs: ['Hello, world!'] });
const bin8 = hex('00ff fefd fcfb 00ff');
add('2.3', 'ping with a small binary payload', (c) => c.write(pingFrame(bin8)), { pongs: [bin8] });
add('2.4', 'ping with a 125-byte payload', (c) => c.write(pingFrame(Buffer.alloc(125, 0xfe))),
  { pongs: [Buffer.alloc(125, 0xfe)] });
add('2.5', 'ping with a 126-byte payload', (c) => c.write(pingFrame(Buffer.alloc(126, 0xfe))), { close: 1002 });
add('2.6', 'ping with a 125-byte payload written one byte at a time',
  (c) => c.writeChunked(pingFrame(Buffer.alloc(125, 0xfe)), 1, 1), { pongs: [Buffer.alloc(125, 0xfe)] });
add('2.7', 'unsolicited pong without payload', (c) => c.write(frame({ op: OP.PONG })), {});
add('2.8', 'unsolicited pong with payload',
  (c) => c.write(frame({ op: OP.PONG, payload: utf8('unsolicited pong payload') })), {});
add('2.9', 'unsolicited pong, then ping', (c) => c.write(Buffer.concat([
  frame({ op: OP.PONG, payload: utf8('unsolicited pong payload') }), pingFrame('ping payload')])),
{ pongs: ['ping payload'] });
const tenPings = () => Buffer.concat([...Array(10).keys()].map((i) => pingFrame(`payload-${i}`)));
const tenPongs = [...Array(10).keys()].map((i) => `payload-${i}`);
add('2.10', '10 pings in one write', (c) => c.write(tenPings()), { pongs: tenPongs });
add('2.11', '10 pings written one byte at a time', (c) => c.writeChunked(tenPings(), 1), { pongs: tenPongs });

// 3 Reserved bits: fail at once; nothing after the bad frame is processed.
const violationThenPing = (bad, how) => async (c) => {
  const bytes = Buffer.concat([binaryMsg(), bad, pingFrame('after')]);
  if (how === 'chunked') await c.writeChunked(bytes, 1);
  else if (how === 'framewise') {
    c.write(binaryMsg());
    await sleep(10);
    c.write(bad);
    await sleep(10);
    c.write(pingFrame('after'));
  } else c.write(bytes);
};
add('3.1', 'text frame with RSV = 1', (c) => c.write(frame({ op: OP.TEXT, payload: utf8('Hello'), rsv: 1 })),
  { close: 1002 });
add('3.2', 'Envelope, binary frame with RSV = 2, ping',
  violationThenPing(frame({ op: OP.BINARY, payload: ping(), rsv: 2 })), { responses: 1, close: 1002 });
add('3.3', 'Envelope, text frame with RSV = 3, ping (frame-wise writes)',
  violationThenPing(frame({ op: OP.TEXT, payload: utf8('Hello'), rsv: 3 }), 'framewise'),
  { responses: 1, close: 1002 });
add('3.4', 'Envelope, text frame with RSV = 4, ping (one byte at a time)',
  violationThenPing(frame({ op: OP.TEXT, payload: utf8('Hello'), rsv: 4 }), 'chunked'),
  { responses: 1, close: 1002 });
add('3.5', 'binary frame with RSV = 5', (c) => c.write(frame({ op: OP.BINARY, payload: ping(), rsv: 5 })),
  { close: 1002 });
add('3.6', 'ping with RSV = 6', (c) => c.write(frame({ op: OP.PING, payload: utf8('x'), rsv: 6 })),
  { close: 1002 });
add('3.7', 'close with RSV = 7', (c) => c.write(closeFrame(1000, Buffer.alloc(0), { rsv: 7 })), { close: 1002 });

// 4 Opcodes: reserved non-control (3-7) and control (11-15) opcodes.
[3, 4, 5, 6, 7].forEach((op, i) => add(`4.1.${i + 1}`, `reserved non-control opcode ${op}` +
  (i >= 2 ? ' after an Envelope, then ping' : ''),
i < 2 ? (c) => c.write(frame({ op, payload: i ? utf8('reserved') : Buffer.alloc(0) }))
  : violationThenPing(frame({ op, payload: utf8('reserved') })),
i < 2 ? { close: 1002 } : { responses: 1, close: 1002 }));
[11, 12, 13, 14, 15].forEach((op, i) => add(`4.2.${i + 1}`, `reserved control opcode ${op}` +
  (i >= 2 ? ' after an Envelope, then ping' : ''),
i < 2 ? (c) => c.write(frame({ op, payload: i ? utf8('reserved') : Buffer.alloc(0) }))
  : violationThenPing(frame({ op, payload: utf8('reserved') })),
i < 2 ? { close: 1002 } : { responses: 1, close: 1002 }));

// 5 Fragmentation. Autobahn's text messages are refused (1003) once
// complete; the "b" variants carry an Envelope in binary fragments.
const write3 = async (c, parts, how) => {
  if (how === 'chunked') return c.writeChunked(Buffer.concat(parts), 1);
  for (const p of parts) {
    c.write(p);
    if (how === 'framewise') await sleep(10);
  }
};
const two = (op, payload) => {
  const h = Math.floor(payload.length / 2);
  return [frame({ op, payload: payload.slice(0, h), fin: false }), frame({ op: OP.CONT, payload: payload.slice(h) })];
};
add('5.1', 'ping in 2 fragments', (c) => c.write(Buffer.concat([
  frame({ op: OP.PING, payload: utf8('frag1'), fin: false }), frame({ op: OP.CONT, payload: utf8('frag2') })])),
{ close: 1002 });
add('5.2', 'pong in 2 fragments', (c) => c.write(Buffer.concat([
  frame({ op: OP.PONG, payload: utf8('frag1'), fin: false }), frame({ op: OP.CONT, payload: utf8('frag2') })])),
{ close: 1002 });
['', 'chunked', 'framewise'].forEach((how, i) => {
  add(`5.${3 + i}`, `text message in 2 fragments ${how}`, (c) => write3(c, two(OP.TEXT, utf8('fragment1fragment2')), how),
    { close: 1003 });
  add(`5.${3 + i}b`, `Envelope in 2 binary fragments ${how}`, (c) => write3(c, two(OP.BINARY, ping()), how),
    { responses: 1 });
  add(`5.${6 + i}`, `text message in 2 fragments with a ping between ${how}`, (c) => {
    const [a, b] = two(OP.TEXT, utf8('fragment1fragment2'));
    return write3(c, [a, pingFrame('pongme!'), b], how);
  }, { pongs: ['pongme!'], close: 1003 });
  add(`5.${6 + i}b`, `Envelope in 2 binary fragments with a ping between ${how}`, (c) => {
    const [a, b] = two(OP.BINARY, ping());
    return write3(c, [a, pingFrame('pongme!'), b], how);
  }, { pongs: ['pongme!'], responses: 1 });
  add(`5.${9 + i}`, `continuation (FIN) without a message, then text ${how}`,
    (c) => write3(c, [frame({ op: OP.CONT, payload: utf8('fragment1') }), textMsg('fragment2')], how),
    { close: 1002 });
  add(`5.${12 + i}`, `continuation (no FIN) without a message, then text ${how}`,
    (c) => write3(c, [frame({ op: OP.CONT, payload: utf8('fragment1'), fin: false }), textMsg('fragment2')], how),
    { close: 1002 });
});
add('5.15', 'text in 2 fragments, then a stray continuation, then text',
  (c) => c.write(Buffer.concat([...two(OP.TEXT, utf8('fragment1fragment2')),
    frame({ op: OP.CONT, payload: utf8('fragment3'), fin: false }), ...two(OP.TEXT, utf8('fragment4'))])),
  { close: 1003 });
add('5.15b', 'Envelope in 2 fragments, then a stray continuation, then an Envelope',
  (c) => c.write(Buffer.concat([...two(OP.BINARY, ping()),
    frame({ op: OP.CONT, payload: utf8('fragment3'), fin: false }), ...two(OP.BINARY, ping())])),
  { responses: 1, close: 1002 });
[['5.16', false], ['5.17', true]].forEach(([id, fin]) => add(id,
  `2x: continuation (FIN=${fin}) without a message, then text in 2 fragments`, (c) => {
    const once = [frame({ op: OP.CONT, payload: utf8('fragment1'), fin }), ...two(OP.TEXT, utf8('fragment2fragment3'))];
    c.write(Buffer.concat([...once, ...once]));
  }, { close: 1002 }));
add('5.18', 'text in 2 fragments, both with opcode text', (c) => c.write(Buffer.concat([
  frame({ op: OP.TEXT, payload: utf8('fragment1'), fin: false }), frame({ op: OP.TEXT, payload: utf8('fragment2') })])),
{ close: 1002 });
add('5.18b', 'Envelope in 2 fragments, both with opcode binary', (c) => {
  const p = ping();
  c.write(Buffer.concat([frame({ op: OP.BINARY, payload: p.slice(0, 30), fin: false }),
    frame({ op: OP.BINARY, payload: p.slice(30) })]));
}, { close: 1002 });
const fivePingPong = (op, payload) => async (c, how) => {
  const n = payload.length, k = Math.ceil(n / 5);
  const parts = [...Array(5).keys()].map((i) =>
    frame({ op: i ? OP.CONT : op, payload: payload.slice(i * k, (i + 1) * k), fin: i === 4 }));
  const seq = [parts[0], parts[1], pingFrame('pongme 1!'), parts[2], parts[3], pingFrame('pongme 2!'), parts[4]];
  for (const [j, p] of seq.entries()) {
    if (how === 'chunked') await c.writeChunked(p, 1);
    else c.write(p);
    if (j === 2 || j === 5) await sleep(50);
  }
};
['', 'chunked'].forEach((how, i) => {
  add(`5.${19 + i}`, `text in 5 fragments, pings between 2/3 and 4/5, with pauses ${how}`,
    (c) => fivePingPong(OP.TEXT, utf8('fragment1fragment2fragment3fragment4fragment5'))(c, how),
    { pongs: ['pongme 1!', 'pongme 2!'], close: 1003 });
  add(`5.${19 + i}b`, `Envelope in 5 fragments, pings between 2/3 and 4/5, with pauses ${how}`,
    (c) => fivePingPong(OP.BINARY, ping(100))(c, how), { pongs: ['pongme 1!', 'pongme 2!'], responses: 1 });
});

// 6 UTF-8 in text messages: valid → refused as text (1003), invalid → 1007.
add('6.1.1', 'empty text message', (c) => c.write(textMsg('')), { close: 1003 });
add('6.1.2', 'text message of 3 empty fragments', (c) => c.write(Buffer.concat([
  frame({ op: OP.TEXT, fin: false }), frame({ op: OP.CONT, fin: false }), frame({ op: OP.CONT })])), { close: 1003 });
add('6.1.3', 'text message: empty, non-empty, empty fragments', (c) => c.write(Buffer.concat([
  frame({ op: OP.TEXT, fin: false }), frame({ op: OP.CONT, fin: false, payload: utf8('middle frame payload') }),
  frame({ op: OP.CONT })])), { close: 1003 });
const hello = utf8('Hello-µ@ßöäüàá-UTF-8!!');
const kosme = hex('cebae1bdb9cf83cebcceb5');
add('6.2.1', 'valid UTF-8 in one frame', (c) => c.write(textMsg(hello)), { close: 1003 });
add('6.2.2', 'valid UTF-8 in 2 frames split at a code point', (c) => c.write(Buffer.concat([
  frame({ op: OP.TEXT, payload: hello.slice(0, 6), fin: false }), frame({ op: OP.CONT, payload: hello.slice(6) })])),
{ close: 1003 });
add('6.2.3', 'valid UTF-8 in 1-byte frames', (c) => c.write(fragments(OP.TEXT, hello, 1)), { close: 1003 });
add('6.2.4', 'valid UTF-8 (κόσμε) in 1-byte frames', (c) => c.write(fragments(OP.TEXT, kosme, 1)), { close: 1003 });
add('6.3.1', 'invalid UTF-8 in one frame', (c) => c.write(textMsg(Buffer.concat([kosme, hex('eda080'), utf8('edited')]))),
  { close: 1007 });
add('6.3.2', 'invalid UTF-8 in 1-byte frames',
  (c) => c.write(fragments(OP.TEXT, Buffer.concat([kosme, hex('eda080'), utf8('edited')]), 1)), { close: 1007 });
// 6.4: fail fast — the close must arrive before the rest is sent.
const failFast = (parts, framed) => async (c, ctx) => {
  const msgs = framed
    ? parts.map((p, i) => frame({ op: i ? OP.CONT : OP.TEXT, payload: p, fin: i === parts.length - 1 }))
    : (() => {
      const whole = frame({ op: OP.TEXT, payload: Buffer.concat(parts) });
      const head = whole.length - Buffer.concat(parts).length;
      let at = head + parts[0].length;
      const out = [whole.slice(0, at)];
      for (const p of parts.slice(1)) {
        out.push(whole.slice(at, at + p.length));
        at += p.length;
      }
      return out;
    })();
  c.write(msgs[0]);
  await sleep(20);
  c.write(msgs[1]);
  if (!(await c.until(() => c.close, 500))) ctx.fail('no close before the rest of the message was sent');
  else if (msgs[2]) c.write(msgs[2]);
};
const p1 = kosme, p2a = hex('f4908080'), p3 = utf8('edited');
add('6.4.1', 'fail fast: invalid code point in the 2nd of 3 frames', failFast([p1, p2a, p3], true), { close: 1007 });
add('6.4.2', 'fail fast: invalid byte (after F4) opening the 2nd of 3 frames',
  failFast([Buffer.concat([p1, hex('f4')]), hex('90'), hex('8080'), p3], true), { close: 1007 });
add('6.4.3', 'fail fast: invalid code point in the 2nd of 3 writes of one frame', failFast([p1, p2a, p3], false),
  { close: 1007 });
add('6.4.4', 'fail fast: invalid byte alone in the 2nd of 3 writes of one frame',
  failFast([Buffer.concat([p1, hex('f4')]), hex('90'), Buffer.concat([hex('8080'), p3])], false), { close: 1007 });
// 6.5-6.23: Markus Kuhn's UTF-8 decoder stress test, as Autobahn groups it.
const utf8Groups = [
  ['6.5', [['cebae1bdb9cf83cebcceb5', 1], ['cebae1bdb9cf83cebcceb520', 1], ['41cebae1bdb9cf83cebcceb5', 1],
    ['f0908d88', 1], ['e282ac', 1]]],
  // Prefixes of κόσμε (ce ba | e1 bd b9 | cf 83 | ce bc | ce b5): valid at code point ends.
  ['6.6', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) =>
    [kosme.slice(0, n).toString('hex'), [2, 5, 7, 9, 11].includes(n) ? 1 : 0])],
  ['6.7', [['00', 1], ['c280', 1], ['e0a080', 1], ['f0908080', 1]]],
  ['6.8', [['f888808080', 0], ['fc8480808080', 0]]],
  ['6.9', [['7f', 1], ['dfbf', 1], ['efbfbf', 1], ['f48fbfbf', 1]]],
  ['6.10', [['f7bfbfbf', 0], ['fbbfbfbfbf', 0], ['fdbfbfbfbfbf', 0]]],
  ['6.11', [['ed9fbf', 1], ['ee8080', 1], ['efbfbd', 1], ['f48fbfbf', 1], ['f4908080', 0]]],
  ['6.12', [['80', 0], ['bf', 0], ['80bf', 0], ['80bf80', 0], ['80bf80bf', 0], ['80bf80bf80', 0],
    ['80bf80bf80bf', 0], [[...Array(64).keys()].map((i) => (0x80 + i).toString(16)).join(''), 0]]],
  ['6.13', [[[...Array(32).keys()].map((i) => (0xc0 + i).toString(16) + '20').join(''), 0],
    [[...Array(16).keys()].map((i) => (0xe0 + i).toString(16) + '20').join(''), 0],
    [[...Array(8).keys()].map((i) => (0xf0 + i).toString(16) + '20').join(''), 0],
    ['f820f920fa20fb20', 0], ['fc20fd20', 0]]],
  ['6.14', [['c0', 0], ['e080', 0], ['f08080', 0], ['f8808080', 0], ['fc80808080', 0],
    ['df', 0], ['efbf', 0], ['f7bfbf', 0], ['fbbfbfbf', 0], ['fdbfbfbfbf', 0]]],
  ['6.15', [['c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf', 0]]],
  ['6.16', [['fe', 0], ['ff', 0], ['fefeffff', 0]]],
  ['6.17', [['c0af', 0], ['e080af', 0], ['f08080af', 0], ['f8808080af', 0], ['fc80808080af', 0]]],
  ['6.18', [['c1bf', 0], ['e09fbf', 0], ['f08fbfbf', 0], ['f887bfbfbf', 0], ['fc83bfbfbfbf', 0]]],
  ['6.19', [['c080', 0], ['e08080', 0], ['f0808080', 0], ['f880808080', 0], ['fc8080808080', 0]]],
  ['6.20', [['eda080', 0], ['edadbf', 0], ['edae80', 0], ['edafbf', 0], ['edb080', 0], ['edbe80', 0], ['edbfbf', 0]]],
  ['6.21', [['eda080edb080', 0], ['eda080edbfbf', 0], ['edadbfedb080', 0], ['edadbfedbfbf', 0],
    ['edae80edb080', 0], ['edae80edbfbf', 0], ['edafbfedb080', 0], ['edafbfedbfbf', 0]]],
  // Noncharacters are valid UTF-8: U+FFFE, U+FFFF and U+nFFFE/U+nFFFF of every plane.
  ['6.22', [['efbfbe', 1], ['efbfbf', 1], ...[...Array(16).keys()].flatMap((i) => {
    const cp = (i + 1) * 0x10000 + 0xfffe;
    return [cp, cp + 1].map((x) => [Buffer.from(String.fromCodePoint(x)).toString('hex'), 1]);
  })]],
  ['6.23', [['efbfbd', 1], ['efbfbdefbfbd', 1], ['61efbfbd62', 1], ['ef bf bc', 1], ['e2808b', 1],
    ['f09f9880', 1], ['efbbbf', 1]]],
];
for (const [group, list] of utf8Groups) {
  list.forEach(([h, valid], i) => {
    const bytes = hex(h);
    if (valid !== (isValidUtf8(bytes) ? 1 : 0)) throw new Error(`case table: ${group}.${i + 1} validity`);
    add(`${group}.${i + 1}`, `${valid ? 'valid' : 'invalid'} UTF-8 ${h.replace(/\s+/g, '').slice(0, 40)}`,
      (c) => c.write(textMsg(bytes)), { close: valid ? 1003 : 1007 });
  });
}

// 7 Close handling.
add('7.1.1', 'Envelope, then close 1000', (c) => {
  c.write(binaryMsg());
  c.sendClose(1000);
}, { responses: 1, echo: 1000 });
add('7.1.2', 'close twice', (c) => {
  c.sendClose(1000);
  c.write(closeFrame(1000));
}, { echo: 1000 });
add('7.1.3', 'ping after close', (c) => {
  c.sendClose(1000);
  c.write(pingFrame('after close'));
}, { echo: 1000 });
add('7.1.4', 'Envelope after close', (c) => {
  c.sendClose(1000);
  c.write(binaryMsg());
}, { echo: 1000 });
add('7.1.5', 'first fragment, close, last fragment', (c) => {
  const [a, b] = two(OP.BINARY, ping());
  c.write(a);
  c.sendClose(1000);
  c.write(b);
}, { echo: 1000 });
add('7.1.6', `large Envelope (${Math.min(MAX, 262144)} bytes), ping, close in one write`, (c) => {
  c.closeSent = true;
  c.write(Buffer.concat([binaryMsg(Math.min(MAX, 262144)), pingFrame('ping'), closeFrame(1000)]));
}, { responses: 1, pongs: ['ping'], echo: 1000 });
add('7.3.1', 'close without payload', (c) => c.sendClose(), { echo: 'none' });
add('7.3.2', 'close with a 1-byte payload', (c) => c.write(frame({ op: OP.CLOSE, payload: hex('03') })),
  { close: 1002 });
add('7.3.3', 'close 1000 without reason', (c) => c.sendClose(1000), { echo: 1000 });
add('7.3.4', 'close 1000 with a reason', (c) => c.sendClose(1000, utf8('Hello World!')), { echo: 1000 });
add('7.3.5', 'close 1000 with a 123-byte reason', (c) => c.sendClose(1000, Buffer.alloc(123, 0x2a)), { echo: 1000 });
add('7.3.6', 'close 1000 with a 124-byte reason (payload above 125)',
  (c) => c.write(closeFrame(1000, Buffer.alloc(124, 0x2a))), { close: 1002 });
add('7.3.7', 'close with a reason in 1-byte writes',
  (c) => { c.closeSent = true; return c.writeChunked(closeFrame(1000, utf8('κόσμε reason')), 1); }, { echo: 1000 });
// A close frame arriving in pieces: its reason must be checked as a whole
// (libwslay checks each read from its 3rd byte on and would refuse this).
[[7, 'after the first byte of the code'], [8, 'after the code'], [9, 'inside the first character']].forEach(
  ([cut, where], i) => add(`7.3.${8 + i}`, `close 1000 with a UTF-8 reason in 2 writes split ${where}`, async (c) => {
    c.closeSent = true;
    const f = closeFrame(1000, utf8('κόσμε'));  // 2-byte header, 4-byte mask, code, reason
    c.write(f.slice(0, cut));
    await sleep(20);
    c.write(f.slice(cut));
  }, { echo: 1000 }));
add('7.5.1', 'close 1000 with an invalid UTF-8 reason',
  (c) => c.write(closeFrame(1000, hex('cebae1bdb9cf83cebcceb5eda080656469746564'))), { close: 1007 });
add('7.5.2', 'close 1000 with an invalid UTF-8 reason in 1-byte writes',
  (c) => c.writeChunked(closeFrame(1000, hex('cebae1bdb9cf83cebcceb5eda080656469746564')), 1), { close: 1007 });
[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) =>
  add(`7.7.${i + 1}`, `close with valid code ${code}`, (c) => c.sendClose(code), { echo: code }));
[0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999].forEach((code, i) =>
  add(`7.9.${i + 1}`, `close with invalid code ${code}`, (c) => c.write(closeFrame(code)), { close: 1002 }));
[5000, 65535].forEach((code, i) =>
  add(`7.13.${i + 1}`, `close with invalid code ${code}`, (c) => c.write(closeFrame(code)), { close: 1002 }));

// 9 Limits and large messages (max_message_bytes = MAX).
const big = [65536, 262144, 1 << 20, 4 << 20, 8 << 20, 16 << 20];
// Above the limit only the header and the first 64 KiB are sent: the server
// must refuse on the header, before buffering the message.
const oversized = (op, n) => (c) =>
  c.write(frame({ op, payload: Buffer.alloc(Math.min(n, 65536), 0x2a), declared: n }));
big.forEach((n, i) => add(`9.1.${i + 1}`, `text message of ${n} bytes`,
  n <= MAX ? (c) => c.write(textMsg(Buffer.alloc(n, 0x2a))) : oversized(OP.TEXT, n),
  { close: n <= MAX ? 1003 : 1009 }));
big.forEach((n, i) => add(`9.2.${i + 1}`, `binary message of ${n} bytes`,
  n <= MAX ? (c) => c.write(binaryMsg(n)) : oversized(OP.BINARY, n),
  n <= MAX ? { responses: 1 } : { close: 1009 }));
add('9.2.7', `binary message of max_message_bytes + 1 (${MAX + 1})`, oversized(OP.BINARY, MAX + 1), { close: 1009 });
const fragSizes = [64, 256, 1024, 4096, 16384, 65536, 262144];
fragSizes.forEach((f, i) => {
  const n = Math.min(MAX, 262144);
  add(`9.3.${i + 1}`, `text message of ${n} bytes in fragments of ${f}`,
    (c) => c.write(fragments(OP.TEXT, Buffer.alloc(n, 0x2a), f)), { close: 1003 });
  add(`9.4.${i + 1}`, `Envelope of ${n} bytes in fragments of ${f}`,
    (c) => c.write(fragments(OP.BINARY, ping(n), f)), { responses: 1 });
});
add('9.4.8', 'Envelope one byte above the limit in fragments of 4096 (refused at the last fragment)',
  (c) => c.write(fragments(OP.BINARY, Buffer.alloc(MAX + 1), 4096)), { close: 1009 });
[64, 128, 256, 512, 1024, 2048].forEach((chunk, i) => {
  const n = Math.min(MAX, 262144);
  add(`9.5.${i + 1}`, `text message of ${n} bytes written in chunks of ${chunk}`,
    (c) => c.writeChunked(textMsg(Buffer.alloc(n, 0x2a)), chunk), { close: 1003 });
  add(`9.6.${i + 1}`, `Envelope of ${n} bytes written in chunks of ${chunk}`,
    (c) => c.writeChunked(binaryMsg(n), chunk), { responses: 1 });
});
// 500, not Autobahn's 1000: unauthenticated, the kernel allows 64 KiB of
// unsent answers (limits.max_pending_bytes_unauthenticated) per connection.
[0, 16, 64, 256, 1024, 4096].forEach((pad, i) => add(`9.7.${i + 1}`,
  `500 Envelopes of ${ENVELOPE_MIN + pad} bytes back to back`,
  (c) => c.write(Buffer.concat([...Array(500).keys()].map(() => binaryMsg(ENVELOPE_MIN + pad)))),
  { responses: 500 }));
[0, 64, 1024].forEach((pad, i) => add(`9.8.${i + 1}`,
  `100 Envelopes of ${ENVELOPE_MIN + pad} bytes, one round trip each`, async (c) => {
    for (let k = 1; k <= 100; k++) {
      c.write(binaryMsg(ENVELOPE_MIN + pad));
      await c.until(() => c.responses.length >= k || c.close, 1000);
    }
  }, { responses: 100 }));

// 10 Misc: auto-fragmentation.
add('10.1.1', 'text message of 65536 bytes in fragments of 1300',
  (c) => c.write(fragments(OP.TEXT, Buffer.alloc(65536, 0x2a), 1300)), { close: 1003 });
add('10.1.1b', 'Envelope of 65536 bytes in fragments of 1300',
  (c) => c.write(fragments(OP.BINARY, ping(65536), 1300)), { responses: 1 });

// ------------------------------------------------------------ running ---

async function runCase(tc) {
  const errors = [];
  const ctx = { fail: (m) => errors.push(m) };
  const c = await Conn.open();
  const e = tc.expect;
  try {
    await tc.run(c, ctx);
    const want = e.responses || 0;
    const pongs = (e.pongs || []).map((p) => (typeof p === 'string' ? utf8(p) : p));
    const serverCloses = e.close !== undefined;
    if (serverCloses || e.echo !== undefined) {
      if (!(await c.until(() => c.close || c.tcpClosed, 3000))) errors.push('no close frame within 3 s');
      else if (!c.close) errors.push('TCP closed without a close frame');
      // Answer the server's close (it may have stopped reading: ignore errors).
      if (c.close && !c.closeSent) c.sendClose(c.close.code === null ? undefined : c.close.code);
    } else {
      await c.until(() => c.responses.length >= want && c.pongs.length >= pongs.length, 3000);
      await sleep(30);  // anything unexpected (a close, extra frames) shows up now
      if (c.close) errors.push(`unexpected close ${c.close.code} "${c.close.reason}"`);
      else {
        c.sendClose(1000);
        if (!(await c.until(() => c.close, 2000))) errors.push('no close echo within 2 s');
        else if (c.close.code !== 1000) errors.push(`close echo ${c.close.code}, want 1000`);
      }
    }
    if (c.close && (serverCloses || e.echo !== undefined)) {
      const wantCode = serverCloses ? e.close : e.echo;
      const got = c.close.code === null ? 'none' : c.close.code;
      if (got !== wantCode) errors.push(`close code ${got} "${c.close.reason}", want ${wantCode}`);
    }
    if (!(await c.until(() => c.tcpClosed, 2000))) errors.push('server did not close TCP within 2 s of the close');
    const responses = c.responses.filter((r) => r.kind === 1);
    const others = c.responses.filter((r) => r.kind !== 1);
    if (responses.length !== want) errors.push(`${responses.length} responses, want ${want}`);
    if (e.closing) {
      if (others.length !== 1 || others[0].method !== 'sys.closing' || others[0].status !== 11)
        errors.push('no sys.closing (Malformed) before the close');
    } else if (others.length) {
      errors.push(`unexpected events: ${others.map((r) => r.method).join(', ')}`);
    }
    if (c.pongs.length !== pongs.length || c.pongs.some((p, i) => !p.equals(pongs[i])))
      errors.push(`pongs [${c.pongs.map((p) => p.toString('latin1')).join('|')}], want ` +
        `[${pongs.map((p) => p.toString('latin1')).join('|')}]`);
    if (c.afterClose) errors.push(`${c.afterClose} frames after the server's close frame`);
    errors.push(...c.problems);
  } finally {
    c.destroy();
  }
  return errors;
}

// The server still serves: a fresh connection completes sys.hello.
async function stillServes() {
  const c = await Conn.open();
  try {
    const id = nextId++;
    c.write(frame({ op: OP.BINARY, payload: envelope({ id, method: 'sys.hello', payload: helloPayload() }) }));
    if (!(await c.until(() => c.responses.length || c.close || c.tcpClosed, 3000))) return 'no sys.hello answer';
    const r = c.responses[0];
    if (!r) return 'connection closed instead of answering sys.hello';
    if (r.kind !== 1 || r.id !== BigInt(id) || r.status !== 0) return `sys.hello answered status ${r.status}`;
    return null;
  } finally {
    c.destroy();
  }
}

async function main() {
  const seen = new Set();
  for (const tc of cases) {
    if (seen.has(tc.id)) throw new Error('duplicate case id ' + tc.id);
    seen.add(tc.id);
  }
  const selected = cases.filter((tc) => !FILTER.length || FILTER.some((f) => tc.id === f || tc.id.startsWith(f + '.')));
  let passed = 0;
  const started = Date.now();
  for (const tc of selected) {
    const t0 = Date.now();
    let errors;
    try {
      errors = await runCase(tc);
    } catch (err) {
      errors = ['driver error: ' + (err && err.message)];
    }
    let serving;
    try {
      serving = await stillServes();
    } catch (err) {
      serving = 'cannot connect: ' + (err && err.message);
    }
    if (serving) errors.push('server not serving after the case: ' + serving);
    if (errors.length) console.log(`FAIL ${tc.id} ${tc.desc}: ${errors.join('; ')}`);
    else passed++;
    if (VERBOSE) console.log(`${errors.length ? 'fail' : 'ok  '} ${tc.id} ${tc.desc} (${Date.now() - t0} ms)`);
  }
  const failed = selected.length - passed;
  console.log(`conformance${TLS ? ' (wss)' : ''}: ${selected.length} cases, ${passed} passed, ${failed} failed ` +
    `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
