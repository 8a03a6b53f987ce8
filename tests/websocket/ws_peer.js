// A WebSocket peer for the C++ tests, driven over stdin/stdout with one JSON
// object per line, so the tests can use a real RFC 6455 client (`ws` from
// the npm registry) next to the native TLS client.
//
// Commands (stdin):
//   {"op":"connect","url":"ws://...","protocols":["parley.v1"],"origin":"...","maxPayload":N}
//   {"op":"send","hex":"..."}        one binary message
//   {"op":"text","data":"..."}       one text message
//   {"op":"raw_oversized","bytes":N} one binary message of N zero bytes
//   {"op":"pause"}                    stop reading the socket (slow consumer)
//   {"op":"close","code":1000}
// Events (stdout):
//   {"ev":"open","protocol":"parley.v1"}
//   {"ev":"msg","binary":true,"hex":"..."}
//   {"ev":"unexpected","status":403}  the upgrade was refused
//   {"ev":"close","code":1003,"reason":"..."}
//   {"ev":"error","message":"..."}
'use strict';
const WebSocket = require('ws');
const readline = require('readline');

let ws = null;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function connect(cmd) {
  const opts = { maxPayload: cmd.maxPayload || 64 * 1024 * 1024, rejectUnauthorized: false };
  if (cmd.origin) opts.origin = cmd.origin;
  ws = new WebSocket(cmd.url, cmd.protocols || [], opts);
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => out({ ev: 'open', protocol: ws.protocol }));
  ws.on('message', (data, isBinary) =>
    out({ ev: 'msg', binary: isBinary, hex: Buffer.from(data).toString('hex') }));
  ws.on('unexpected-response', (req, res) => {
    out({ ev: 'unexpected', status: res.statusCode });
    req.destroy();
  });
  ws.on('close', (code, reason) => out({ ev: 'close', code, reason: reason.toString() }));
  ws.on('error', (e) => out({ ev: 'error', message: String(e.message || e) }));
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out({ ev: 'error', message: 'bad command: ' + line });
    return;
  }
  try {
    switch (cmd.op) {
      case 'connect': connect(cmd); break;
      case 'send': ws.send(Buffer.from(cmd.hex, 'hex'), { binary: true }); break;
      case 'text': ws.send(cmd.data, { binary: false }); break;
      case 'raw_oversized': ws.send(Buffer.alloc(cmd.bytes), { binary: true }); break;
      case 'pause': ws._socket.pause(); out({ ev: 'paused' }); break;
      case 'close': ws.close(cmd.code || 1000); break;
      default: out({ ev: 'error', message: 'unknown op ' + cmd.op });
    }
  } catch (e) {
    out({ ev: 'error', message: String(e.message || e) });
  }
});
rl.on('close', () => process.exit(0));
