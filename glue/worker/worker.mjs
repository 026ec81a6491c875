// worker.mjs - the bootstrap of an actor's worker: it takes the host's
// control messages, instantiates the System's compiled module with a
// memory of its own on `init`, and hands envelopes from the host to the
// actor (actor.mjs). One actor per worker.
import { HOST, CTL, isControl } from '../wire/protocol.mjs';
import { onMessage, hostPort, closeSelf } from '../platform.mjs';
import { REQUIRED_EXPORTS } from './abi.mjs';
import { WorkerActor } from './actor.mjs';
import { makeImports } from './imports.mjs';
import { makeWasi } from './wasi.mjs';

const host = hostPort();

/** @type {WorkerActor|null} */
let actor = null;
let receiveFromHost = null;
const badFromHost = (why) => actor.rejected(HOST, why);
const returnFromHost = (loan, buf) => actor.loanReturned(loan, buf, HOST);

onMessage(host, (data) => {
  if (isControl(data)) return control(data);
  if (!actor || actor.stopped) return;
  actor.takeIn(data, receiveFromHost, badFromHost, returnFromHost);
});

/** @param {import('../wire/protocol.mjs').InitCtl} msg */
function init(msg) {
  const a = new WorkerActor(host, msg);
  try {
    const env = makeImports(a);
    // ferry-build modules import their memory: make it here, capped at
    // the spawn's maxMemory (glue/host/memory.mjs). Past the cap
    // memory.grow fails and malloc returns NULL in C.
    let memory = null;
    if (msg.memory) {
      memory = new WebAssembly.Memory({ initial: msg.memory.initial, maximum: msg.memory.maximum });
      env.memory = memory;
      a.maxMemory = msg.memory.maximum * 65536;
    }
    const instance = new WebAssembly.Instance(msg.module, {
      env,
      wasi_snapshot_preview1: makeWasi(() => a.mem.u8().buffer, () => `[${a.label}#${a.id}]`),
    });
    const ex = instance.exports;
    for (const name of REQUIRED_EXPORTS) {
      if (!ex[name]) throw new Error(`the wasm module has no export "${name}": build it with ferry-build`);
    }
    memory ??= ex.memory;
    a.mem.attach(memory); // constructors may already print
    ex._initialize?.();
    a.attach(ex, memory);
  } catch (e) {
    // Out of memory before the actor ran: its initial memory or its
    // Asyncify stack did not fit (a RangeError from WebAssembly.Memory).
    const oom = e?.code === 'ENOMEM' || e instanceof RangeError;
    host.postMessage({ ctl: CTL.FAILED, code: oom ? 'ENOMEM' : 'EINVAL', message: `cannot instantiate the module: ${e.message}` });
    a.stopped = true;
    closeSelf(host);
    return;
  }
  actor = a;
  receiveFromHost = (u8, xfer, loans) => a.receive(u8, xfer, HOST, loans);
  a.receive(new Uint8Array(msg.init), msg.initXfer || null, HOST);
  a.run();
}

function control(msg) {
  switch (msg.ctl) {
    case CTL.INIT:
      init(msg);
      break;
    case CTL.PEER:
      actor?.ports.connect(msg.id, msg.port, !!msg.thread);
      break;
    case CTL.STATS:
      host.postMessage({
        ctl: CTL.STATS, seq: msg.seq,
        stats: actor ? actor.snapshot() : null,
      });
      break;
    case CTL.PEER_FAIL:
    case CTL.PEER_DOWN:
      actor?.ports.gone(msg.id, msg.code || 'EDOWN', msg.message, msg.reason);
      break;
    case CTL.LOAN_RETURN:
      actor?.loanReturned(msg.loan, msg.buf, HOST);
      break;
    default:
      break;
  }
}
