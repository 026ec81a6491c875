// node examples/echo/run.mjs - spawn the echo actor and call it.
// Build its module first: node glue/ferry-build.mjs examples/echo/echo.c -o build/wasm/echo.wasm
// (./configure does this for you).
import { System, transfer } from '../../glue/index.mjs';

const sys = await System.start({ module: new URL('../../build/wasm/echo.wasm', import.meta.url) });
const echo = await sys.spawn('echo');

console.log(await echo.call('hello', { text: 'hi from JS', n: 42 }, { timeout: 1000 }));

// A 1 MiB buffer travels as a blob: moved to the actor and back, never copied.
const buf = new Uint8Array(1 << 20).fill(7);
const back = await echo.call('blob', { data: transfer(buf) });
console.log('sent buffer detached:', buf.byteLength === 0, '- came back with', back.data.length, 'bytes');

await sys.shutdown();
