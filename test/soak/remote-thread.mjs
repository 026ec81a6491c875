// remote-thread.mjs - a JS thread of the app's own in the soak: it gets
// ports from ref.connect(), turns them into RemoteActors with connect(port)
// and runs the same traffic as the host (traffic.mjs) until told to stop;
// then it answers with what it sent and how its calls ended.
import { parentPort } from 'node:worker_threads';
import { connect } from '../../glue/index.mjs';
import { Traffic } from './traffic.mjs';

let traffic = null;
parentPort.on('message', async (msg) => {
  try {
    if (msg.start) {
      const actors = await Promise.all(msg.ports.map((p) => connect(p)));
      const targets = actors.map((a) => ({
        id: a.id,
        from: a.self,
        send: (type, v) => a.send(type, v),
        call: (type, v, o) => a.call(type, v, o),
      }));
      traffic = new Traffic(targets, msg.opts);
      traffic.start();
      parentPort.postMessage({ started: true });
    } else if (msg.stop) {
      await traffic.stop();
      parentPort.postMessage({ stopped: true, sent: traffic.sent(), n: traffic.n });
    }
  } catch (e) {
    parentPort.postMessage({ error: `${e.code ?? e.name}: ${e.message}` });
  }
});
