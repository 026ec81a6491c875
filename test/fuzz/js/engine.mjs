// engine.mjs - a small coverage-guided mutation fuzzer for ferry's JS glue.
//
// Why not jazzer.js: its native prebuilds need glibc 2.38 (Debian 12 has
// 2.36) and it cannot be built offline. This engine is enough for decoders
// of a few hundred lines: seeded mutations (byte flips, inserts, splices,
// CBOR-aware edits of item heads and lengths), a corpus that keeps every
// input that reached glue code no earlier input reached, and V8's precise
// block coverage (Profiler.takePreciseCoverage) as the feedback.
//
// A target is { name, setup?(), seeds(): Uint8Array[], run(bytes),
// check?(), coverage(): (a promise of) the result of takePreciseCoverage or
// null, recover?() after a finding, teardown?() }.
// run() throws (or rejects) with a Finding when a property is violated;
// any other exception out of run() is a finding too: the properties say
// what a target may throw.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/** A property violation found by a target: `kind` groups equal findings. */
export class Finding extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'Finding';
    this.kind = kind;
  }
}

/** Deterministic PRNG (xorshift128+ on two 32-bit halves is enough here). */
export class Rng {
  constructor(seed) {
    this.s = [seed >>> 0 || 1, 0x9e3779b9, 0x243f6a88, 0xb7e15162];
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32() {
    // xoshiro128**
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** An integer in [0, n). */
  below(n) {
    return n <= 1 ? 0 : this.u32() % n;
  }

  pick(list) {
    return list[this.below(list.length)];
  }

  chance(p) {
    return this.u32() / 4294967296 < p;
  }
}

function rotl(x, k) {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// Bytes that mean something in CBOR heads and in length fields.
const INTERESTING = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x3f, 0x40, 0x5f, 0x60, 0x7f,
  0x80, 0x84, 0x9f, 0xa0, 0xbf, 0xc0, 0xd9, 0xe0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xfe, 0xff];

/**
 * Offsets of the CBOR item heads in bytes (a light walk that stops at the
 * first thing it cannot read), for the CBOR-aware mutations.
 */
export function itemHeads(u8, max = 64) {
  const out = [];
  let p = 0;
  while (p < u8.length && out.length < max) {
    const ib = u8[p];
    const major = ib >> 5;
    const ai = ib & 31;
    out.push(p);
    const n = ai < 24 ? 0 : ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
    if (ai > 27 && ai !== 31) break;
    let arg = ai;
    if (n) {
      if (p + 1 + n > u8.length) break;
      arg = 0;
      for (let i = 0; i < n; i++) arg = arg * 256 + u8[p + 1 + i];
    }
    p += 1 + n;
    if ((major === 2 || major === 3) && ai !== 31) p += arg; // string payload
  }
  return out;
}

/** Writes a CBOR head of major type m with argument v. */
function head(m, v) {
  if (v < 24) return [(m << 5) | v];
  if (v < 256) return [(m << 5) | 24, v];
  if (v < 65536) return [(m << 5) | 25, v >> 8, v & 255];
  if (v < 2 ** 32) return [(m << 5) | 26, v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255];
  return [(m << 5) | 27, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
}

/** Mutates bytes (a copy) 1 to 4 times; `other` is a corpus entry to splice. */
export function mutate(rng, input, other, maxLen) {
  let b = Array.from(input);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const op = rng.below(14);
    const at = b.length ? rng.below(b.length) : 0;
    switch (op) {
      case 0: // flip a bit
        if (b.length) b[at] ^= 1 << rng.below(8);
        break;
      case 1: // a random byte
        if (b.length) b[at] = rng.below(256);
        break;
      case 2: // an interesting byte
        if (b.length) b[at] = rng.pick(INTERESTING);
        break;
      case 3: { // insert random bytes
        const n = 1 + rng.below(8);
        const ins = Array.from({ length: n }, () => (rng.chance(0.5) ? rng.pick(INTERESTING) : rng.below(256)));
        b.splice(at, 0, ...ins);
        break;
      }
      case 4: // delete a range
        if (b.length) b.splice(at, 1 + rng.below(Math.min(16, b.length - at)));
        break;
      case 5: { // copy a range elsewhere
        if (!b.length) break;
        const len = 1 + rng.below(Math.min(32, b.length - at));
        const chunk = b.slice(at, at + len);
        b.splice(rng.below(b.length + 1), 0, ...chunk);
        break;
      }
      case 6: { // splice with another input
        if (!other || !other.length) break;
        const cut = rng.below(other.length);
        b = rng.chance(0.5) ? b.slice(0, at).concat(Array.from(other.subarray(cut)))
          : Array.from(other.subarray(0, cut)).concat(b.slice(at));
        break;
      }
      case 7: // truncate
        b.length = at;
        break;
      case 8: { // add or subtract a small number
        if (b.length) b[at] = (b[at] + (rng.below(33) - 16)) & 255;
        break;
      }
      case 9: { // a little-endian 32-bit length (packed runs) set to a boundary
        if (b.length < 4) break;
        const p = rng.below(b.length - 3);
        const v = rng.pick([0, 1, 3, 4, 0x7fffffff, 0xffffffff, b.length, b.length - p - 4, b.length - p - 3, 65536]);
        b[p] = v & 255;
        b[p + 1] = (v >> 8) & 255;
        b[p + 2] = (v >> 16) & 255;
        b[p + 3] = v >>> 24;
        break;
      }
      default: { // CBOR-aware: edit the head of an item
        const heads = itemHeads(Uint8Array.from(b));
        if (!heads.length) break;
        const p = rng.pick(heads);
        const ib = b[p];
        const major = ib >> 5;
        const what = rng.below(6);
        if (what === 0) b[p] = (rng.below(8) << 5) | (ib & 31); // another major type
        else if (what === 1) b[p] = (major << 5) | 31; // indefinite
        else if (what === 2) b[p] = (major << 5) | rng.pick([24, 25, 26, 27, 28, 29, 30]); // longer head or reserved
        else if (what === 3) b.splice(p, 1, ...head(major, rng.pick([0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 40]))); // huge length
        else if (what === 4) b.splice(p, 0, rng.pick([0x81, 0x82, 0x9f, 0xa1, 0xc0, 0xd8, 0xd9])); // wrap in a container or tag
        else b.splice(p, 0, 0xff); // a stray break
        break;
      }
    }
  }
  if (b.length > maxLen) b.length = maxLen;
  return Uint8Array.from(b);
}

/**
 * Turns takePreciseCoverage results into coverage features: "f <url>
 * <start>" per function that ran and "b <url> <start> <end>" per block
 * (a range V8 reported) that ran. V8 reports a block only where its count
 * differs from its parent's, so blocks learned once (`known`) are judged
 * by the innermost reported range that holds them.
 */
export class Coverage {
  constructor(filter) {
    this.filter = filter;
    this.known = new Map(); // "url start" -> Map("s e" -> [s, e])
    this.covered = new Set();
    this.functions = new Set();
    this.allFunctions = new Set();
  }

  /** The features of one coverage result (not yet merged). */
  features(result) {
    const out = [];
    for (const script of result) {
      if (!this.filter(script.url)) continue;
      const url = script.url;
      for (const fn of script.functions) {
        const top = fn.ranges[0];
        const fkey = `${url} ${top.startOffset}`;
        this.allFunctions.add(fkey);
        if (!top.count) continue;
        out.push(`f ${fkey}`);
        let known = this.known.get(fkey);
        if (!known) this.known.set(fkey, (known = new Map()));
        for (const r of fn.ranges) known.set(`${r.startOffset} ${r.endOffset}`, [r.startOffset, r.endOffset]);
        for (const [k, [s, e]] of known) {
          let best = null;
          for (const r of fn.ranges) {
            if (r.startOffset <= s && e <= r.endOffset && (!best || r.endOffset - r.startOffset < best.endOffset - best.startOffset)) best = r;
          }
          if (best && best.count > 0) out.push(`b ${url} ${k}`);
        }
      }
    }
    return out;
  }

  /** Merges features; returns how many were new. */
  merge(features) {
    let n = 0;
    for (const f of features) {
      if (f.startsWith('f ')) {
        if (!this.functions.has(f)) this.functions.add(f);
        continue;
      }
      if (!this.covered.has(f)) {
        this.covered.add(f);
        n++;
      }
    }
    return n;
  }

  hasNew(features) {
    for (const f of features) if (!f.startsWith('f ') && !this.covered.has(f)) return true;
    return false;
  }

  get blocks() {
    return this.covered.size;
  }

  get knownBlocks() {
    let n = 0;
    for (const m of this.known.values()) n += m.size;
    return n;
  }
}

const sha1 = (u8) => crypto.createHash('sha1').update(u8).digest('hex');

function readDir(dir) {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort()
    .map((f) => new Uint8Array(fs.readFileSync(path.join(dir, f))));
}

/**
 * Runs a target for `seconds`. Options: corpusDir (read and written: new
 * inputs go there), seedDirs (read only), artifactDir (findings), seed,
 * maxLen, batch (inputs per coverage sample), log (a function for status
 * lines). Returns the totals.
 */
export async function fuzz(target, opts) {
  const { seconds, corpusDir, seedDirs = [], artifactDir, seed = Date.now() & 0xffffffff, maxLen = 4096, log = () => {} } = opts;
  const rng = new Rng(seed);
  const cov = new Coverage(target.filter);
  if (target.setup) await target.setup();
  const corpus = [];
  const seen = new Set();
  const findings = new Map(); // kind -> {count, file, message}
  let execs = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;

  const takeCov = async () => {
    const r = await target.coverage();
    return r ? cov.features(r) : [];
  };

  const runOne = async (input) => {
    execs++;
    try {
      await target.run(input);
      return null;
    } catch (e) {
      return e;
    }
  };

  const record = (input, e) => {
    const kind = e instanceof Finding ? e.kind : `${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 80)}`;
    let f = findings.get(kind);
    if (!f) {
      f = { kind, count: 0, file: null, message: String(e?.stack ?? e) };
      findings.set(kind, f);
      if (artifactDir) {
        fs.mkdirSync(artifactDir, { recursive: true });
        const file = path.join(artifactDir, `crash-${sha1(input)}`);
        fs.writeFileSync(file, input);
        fs.writeFileSync(`${file}.txt`, `${kind}\n\n${f.message}\n`);
        f.file = file;
      }
      log(`FINDING ${kind}: ${f.message.split('\n')[0]}${f.file ? ` (${f.file})` : ''}`);
    }
    f.count++;
  };

  const keep = (input, save) => {
    const h = sha1(input);
    if (seen.has(h)) return;
    seen.add(h);
    corpus.push(input);
    if (save && corpusDir) {
      fs.mkdirSync(corpusDir, { recursive: true });
      fs.writeFileSync(path.join(corpusDir, h), input);
    }
  };

  // Seeds and the saved corpus: each run once, kept all (a seed is there
  // for a reason even when it adds no coverage of its own here).
  const initial = [...target.seeds(), ...seedDirs.flatMap(readDir), ...readDir(corpusDir)];
  await takeCov(); // reset the counters
  for (const input of initial) {
    const e = await runOne(input);
    if (e) {
      record(input, e);
      if (target.recover) await target.recover();
    }
    cov.merge(await takeCov());
    keep(input, false);
  }
  if (!corpus.length) keep(new Uint8Array(0), false);
  const initialBlocks = cov.blocks;
  log(`${target.name}: ${corpus.length} inputs loaded, ${cov.blocks} blocks in ${cov.functions.size} functions covered`);

  let batch = opts.batch ?? 16;
  let lastLog = performance.now();
  while (performance.now() < deadline) {
    const inputs = [];
    for (let i = 0; i < batch; i++) {
      const parent = corpus[rng.below(corpus.length)];
      const other = corpus[rng.below(corpus.length)];
      inputs.push(mutate(rng, parent, other, maxLen));
    }
    for (const input of inputs) {
      const e = await runOne(input);
      if (e) {
        record(input, e);
        if (target.recover) await target.recover();
      }
    }
    const feats = await takeCov();
    if (cov.hasNew(feats)) {
      // Which input of the batch reached it: run each alone.
      let found = false;
      for (const input of inputs) {
        if (await runOne(input) && target.recover) await target.recover();
        const f = await takeCov();
        if (cov.hasNew(f)) {
          cov.merge(f);
          keep(input, true);
          found = true;
        }
      }
      if (!found) cov.merge(feats); // not reproducible alone: keep the knowledge
    }
    if (target.check) {
      try {
        await target.check();
      } catch (e) {
        record(inputs[inputs.length - 1], e);
        if (target.recover) await target.recover();
      }
    }
    const now = performance.now();
    if (now - lastLog > 10000) {
      lastLog = now;
      log(`#${execs} blocks: ${cov.blocks} fns: ${cov.functions.size} corpus: ${corpus.length} exec/s: ${Math.round(execs / ((now - t0) / 1000))} findings: ${findings.size}`);
    }
  }
  const secs = (performance.now() - t0) / 1000;
  if (target.teardown) await target.teardown();
  return {
    target: target.name,
    engine: 'ferry-js-mutator (V8 block coverage)',
    seconds: Math.round(secs),
    executions: execs,
    execPerSec: Math.round(execs / secs),
    coverage: {
      blocks: cov.blocks, blocksSeen: cov.knownBlocks, blocksAtStart: initialBlocks,
      functions: cov.functions.size, functionsSeen: cov.allFunctions.size,
    },
    corpus: corpus.length,
    findings: [...findings.values()].map(({ kind, count, file, message }) => ({ kind, count, file, message: message.split('\n').slice(0, 6).join('\n') })),
  };
}

/**
 * Adds to outDir the inputs of inDirs that reach blocks the target's
 * seeds and outDir's inputs do not (smallest first): the corpus kept in
 * the source tree grows by what is new only. Returns how many were added.
 */
export async function mergeCorpus(target, outDir, inDirs) {
  const cov = new Coverage(target.filter);
  if (target.setup) await target.setup();
  const take = async () => {
    const r = await target.coverage();
    return r ? cov.features(r) : [];
  };
  const runQuiet = async (input) => {
    try {
      await target.run(input);
    } catch {
      if (target.recover) await target.recover();
    }
  };
  await take();
  for (const input of [...target.seeds(), ...readDir(outDir)]) {
    await runQuiet(input);
    cov.merge(await take());
  }
  const candidates = inDirs.flatMap(readDir).sort((a, b) => a.length - b.length);
  let added = 0;
  fs.mkdirSync(outDir, { recursive: true });
  for (const input of candidates) {
    await runQuiet(input);
    const f = await take();
    if (cov.hasNew(f)) {
      cov.merge(f);
      fs.writeFileSync(path.join(outDir, sha1(input)), input);
      added++;
    }
  }
  if (target.teardown) await target.teardown();
  return added;
}
