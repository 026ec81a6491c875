// node examples/pingpong/run.mjs [rounds] - two C actors calling each
// other over a direct MessageChannel, timed from JS, next to a JS call
// round trip to the same kind of actor.
import { System } from '../../glue/index.mjs';

const rounds = Number(process.argv[2] || 20000);
const sys = await System.start({ module: new URL('../../build/wasm/pingpong.wasm', import.meta.url) });
const [ping, pong] = await Promise.all([sys.spawn('ping'), sys.spawn('pong')]);
console.log(`spawned ping (actor ${ping.id}) and pong (actor ${pong.id}), each in its own worker and wasm memory`);

await ping.call('run', { peer: pong.id, n: 1000 }); // warm up
let t = performance.now();
const r = await ping.call('run', { peer: pong.id, n: rounds });
const cc = ((performance.now() - t) * 1000) / rounds;
console.log(`C -> C: ${r.rounds} round trips of 16 B, ${cc.toFixed(1)} µs each`);

const body = new Uint8Array(15);
for (let i = 0; i < 1000; i++) await pong.call('ping', body); // warm up
t = performance.now();
for (let i = 0; i < rounds; i++) await pong.call('ping', body);
const js = ((performance.now() - t) * 1000) / rounds;
console.log(`JS -> C: ${rounds} calls of 16 B, ${js.toFixed(1)} µs each`);

await sys.shutdown();
console.log('npm run bench compares these with raw postMessage baselines (docs/performance.md).');
