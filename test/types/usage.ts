// Compiled with tsc --noEmit by test/js/types.test.mjs: the declarations
// in glue/*.d.ts must describe the API as documented.
import {
  System, transfer, FerryError, release, recycle, isBorrowed, connect,
  type ActorRef, type DownReason, type RemoteActor, type ActorStats, type RecycleStats,
} from '../../glue/index.mjs';
import { encode, decode, OutOfBand } from '../../glue/serializer.mjs';

async function main(): Promise<void> {
  const sys: System = await System.start({ module: new URL('file:///app.wasm'), mailbox: { messages: 100 }, maxMemory: 64 << 20 });
  const echo: ActorRef = await sys.spawn('echo', { init: { a: 1 }, maxMemory: 32 << 20 });
  echo.send('note', { text: 'hi' });
  const r = await echo.call<{ n: number }>('get', { key: 'a' }, { timeout: 1000, signal: new AbortController().signal });
  const n: number = r.n;
  await echo.call('put', { data: transfer(new Uint8Array(8)) });
  echo.down.then((reason: DownReason) => reason.message.length + n);
  echo.onerror = (e: FerryError) => console.log(e.code, e.errno);
  sys.handle('hold', async (value) => value);
  const stats: ActorStats = await echo.stats();
  const copied: number = stats.copies.blobDup + stats.copiedBytes + stats.loans.out + stats.maxMemory - stats.memory;
  const chunk = await echo.call<{ data: Uint8Array }>('get');
  if (isBorrowed(chunk.data)) release(chunk.data);
  else recycle(chunk.data);
  const pool: RecycleStats = stats.recycle;
  recycle(new ArrayBuffer(pool.pooled + pool.reused));
  echo.onerror = (e: FerryError) => console.log(e.to, e.messageType, e.corr, e.blobs?.length, copied);
  const port: MessagePort = echo.connect();
  const remote: RemoteActor = await connect(port);
  await remote.call('get', { key: 'a' }, { timeout: 10 });
  remote.close();
  console.log(stats.bytesIn, sys.actors.length, encode({ a: 1 }).byteLength, decode(new Uint8Array([0])), new OutOfBand(1).index);
  await echo.stop();
  await sys.shutdown();
}
void main;
