// js-echo-worker.mjs - the baseline worker of the rt* and spawn8 bench rows:
// plain JavaScript, no ferry. Runs in Node (worker_threads) and in browsers
// (Web Workers).
//
// Messages it understands (anything else is echoed back):
//   ArrayBuffer       echoed back, transferred (the raw transfer round trip)
//   [ArrayBuffer...]  echoed back, the buffers transferred
//   {clone: x}        x posted back as is, structured-cloned both ways
//   {count: n}        the next n messages are only counted, then it answers
//                     {counted: n} (the raw one-way stream)
//   {port, role}      a MessagePort to a peer worker for the ping-pong
//                     baseline: 'pong' echoes every buffer on the port;
//                     'ping' waits for {run: n} from the host, then sends a
//                     16 B buffer n times and answers {rounds: n}
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof self === 'undefined';
const host = isNode ? (await import('node:worker_threads')).parentPort : self;

function listen(target, fn) {
  if (typeof target.on === 'function') target.on('message', fn);
  else {
    target.addEventListener('message', (e) => fn(e.data));
    target.start?.();
  }
}

let toCount = 0;
let counted = 0;
let port = null;

function pingRun(n) {
  let left = n;
  const next = (buf) => {
    if (left-- === 0) {
      host.postMessage({ rounds: n });
      return;
    }
    port.postMessage(buf, [buf]);
  };
  pongHandler = next;
  next(new ArrayBuffer(16));
}
let pongHandler = null;

listen(host, (m) => {
  if (toCount) {
    counted++;
    if (counted === toCount) {
      host.postMessage({ counted });
      toCount = 0;
    }
    return;
  }
  if (m instanceof ArrayBuffer) {
    host.postMessage(m, [m]);
  } else if (Array.isArray(m)) {
    host.postMessage(m, m.filter((x) => x instanceof ArrayBuffer));
  } else if (m && m.clone !== undefined) {
    host.postMessage({ clone: m.clone });
  } else if (m && m.count !== undefined) {
    toCount = m.count;
    counted = 0;
  } else if (m && m.port) {
    port = m.port;
    if (m.role === 'pong') listen(port, (b) => port.postMessage(b, [b]));
    else listen(port, (b) => pongHandler(b));
    host.postMessage({ ready: true });
  } else if (m && m.run !== undefined) {
    pingRun(m.run);
  } else {
    host.postMessage(m);
  }
});
