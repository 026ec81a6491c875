// checker.mjs - the soak's judgement, kept apart from workers so that
// test/js/soak.test.mjs can check it on made-up input.
//
// Order, per sender-receiver pair: every message carries seq 0, 1, 2...
// counted per pair. The receiver keeps `next` (the seq it expects); a seq
// above it records the skipped ones as missing, a seq below it is
// "reordered" when it was missing and "duplicated" when it was not. The C
// actor (test/actors/soak.c, observe()) does the same; judge() compares
// what each receiver saw with what each sender says it sent.

/** The payload's byte i for seed (soak_pattern in soak.c): seeds one apart give unrelated bytes. */
export const pattern = (seed, i) => ((Math.imul(i ^ seed, 2654435761 | 0) + seed) >>> 24) & 0xff;

export function fillPattern(u8, seed) {
  for (let i = 0; i < u8.length; i++) u8[i] = pattern(seed, i);
  return u8;
}

/** Checks a payload: all of it up to 1 MiB, else the first and last 64 KiB
 *  and 256 bytes every MiB (as soak.c's check_payload). */
export function checkPattern(u8, seed, size) {
  if (u8.length !== size) return false;
  const range = (from, n) => {
    for (let i = from; i < from + n; i++) if (u8[i] !== pattern(seed, i)) return false;
    return true;
  };
  if (size <= 1 << 20) return range(0, size);
  const edge = 64 << 10;
  if (!range(0, edge) || !range(size - edge, edge)) return false;
  for (let off = edge; off + 256 < size - edge; off += 1 << 20) if (!range(off, 256)) return false;
  return true;
}

/** One receiver's view of one sender. */
export class PairChecker {
  constructor(from) {
    this.from = from;
    this.next = 0;
    this.received = 0;
    this.duplicated = 0;
    this.reordered = 0;
    this.bad = 0;
    this.missingSet = new Set();
  }

  observe(seq) {
    this.received++;
    if (seq === this.next) {
      this.next++;
    } else if (seq > this.next) {
      for (let s = this.next; s < seq; s++) this.missingSet.add(s);
      this.next = seq + 1;
    } else if (this.missingSet.delete(seq)) {
      this.reordered++;
    } else {
      this.duplicated++;
    }
  }

  /** The form soak.c reports. */
  report() {
    return {
      from: this.from,
      next: this.next,
      received: this.received,
      missing: this.missingSet.size,
      duplicated: this.duplicated,
      reordered: this.reordered,
      bad: this.bad,
      overflow: 0,
    };
  }
}

/** Receivers' checkers keyed by sender id. */
export class Receiver {
  constructor() {
    this.pairs = new Map();
  }
  pair(from) {
    let p = this.pairs.get(from);
    if (!p) this.pairs.set(from, (p = new PairChecker(from)));
    return p;
  }
  report() {
    return [...this.pairs.values()].map((p) => p.report());
  }
}

/**
 * Judges a run. sent: [{from, to, count}] (what senders say they sent);
 * recv: [{to, from, next, received, missing, duplicated, reordered, bad}]
 * (what receivers saw). Returns per-pair lines and the totals; a pair is
 * bad when anything was lost (sent but never seen), duplicated, reordered
 * or corrupted, or a receiver saw a sender that says it sent nothing.
 */
export function judge(sent, recv) {
  const key = (from, to) => `${from}>${to}`;
  const pairs = new Map();
  for (const s of sent) pairs.set(key(s.from, s.to), { from: s.from, to: s.to, sent: s.count, rx: null });
  for (const r of recv) {
    const k = key(r.from, r.to);
    if (!pairs.has(k)) pairs.set(k, { from: r.from, to: r.to, sent: 0, rx: null });
    pairs.get(k).rx = r;
  }
  const totals = { pairs: 0, sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  const lines = [];
  for (const p of pairs.values()) {
    const r = p.rx || { next: 0, received: 0, missing: 0, duplicated: 0, reordered: 0, bad: 0 };
    // Distinct seqs seen = next - missing; anything the sender counted
    // beyond them never arrived.
    const unique = r.next - r.missing;
    const lost = Math.max(0, p.sent - unique);
    // Seqs at or above what the sender says it sent are phantoms.
    const phantom = Math.max(0, r.next - p.sent);
    const line = {
      from: p.from,
      to: p.to,
      sent: p.sent,
      delivered: r.received,
      lost,
      duplicated: r.duplicated + phantom,
      reordered: r.reordered,
      corrupted: r.bad,
    };
    line.ok = !line.lost && !line.duplicated && !line.reordered && !line.corrupted;
    lines.push(line);
    totals.pairs++;
    for (const f of ['sent', 'delivered', 'lost', 'duplicated', 'reordered', 'corrupted']) totals[f] += line[f];
  }
  totals.ok = totals.lost === 0 && totals.duplicated === 0 && totals.reordered === 0 && totals.corrupted === 0;
  return { totals, pairs: lines };
}

/** Least-squares slope of ys over xs (units of y per unit of x). */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * Slopes per minute of each series in samples taken after warmupS seconds.
 * samples: [{t (s), ...series}]; series: {name: {get(sample), limit (per
 * minute), unit}}. A series is flat when its slope is below its limit (shrinking is fine).
 */
export function slopes(samples, series, warmupS) {
  const after = samples.filter((s) => s.t >= warmupS);
  const out = {};
  for (const [name, { get, limit, unit }] of Object.entries(series)) {
    const xs = after.map((s) => s.t / 60);
    const ys = after.map(get);
    const perMin = slope(xs, ys);
    out[name] = { perMinute: perMin, limit, unit, flat: after.length >= 3 && perMin < limit, samples: after.length };
  }
  return out;
}
