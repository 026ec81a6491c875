// blobs.mjs - the blobs an actor holds: ArrayBuffers kept here, in the
// worker, never in wasm memory; C holds their handles (ferry/blob.h).
//
// How a blob moves: an envelope arrives with buffers beside it (framing);
// when C takes the message, its buffers get consecutive handles here
// (adopt); C refers to them by handle; when C posts a message with blob
// handles, they leave this table and go in the transfer list (release), so
// the sender's handles are invalid from then on.

export class Blobs {
  #map = new Map(); // handle -> ArrayBuffer
  #next = 1; // 0 is FERRY_BLOB_NONE

  get size() {
    return this.#map.size;
  }

  /** Holds the buffers of a received message; returns the first handle
   * (they are consecutive), or 0 when there are none. */
  adopt(list) {
    const n = list ? list.length : 0;
    if (!n) return 0;
    const base = this.#next;
    for (let i = 0; i < n; i++) this.#map.set(this.#next++, list[i]);
    return base;
  }

  /** Holds one new buffer; returns its handle. */
  add(buf) {
    this.#map.set(this.#next, buf);
    return this.#next++;
  }

  get(h) {
    return this.#map.get(h);
  }

  has(h) {
    return this.#map.has(h);
  }

  /** Takes the buffers of these handles out of the table, to be sent; null
   * (and nothing taken) when any handle is not held here. */
  release(handles) {
    for (let i = 0; i < handles.length; i++) if (!this.#map.has(handles[i])) return null;
    const out = new Array(handles.length);
    for (let i = 0; i < handles.length; i++) {
      out[i] = this.#map.get(handles[i]);
      this.#map.delete(handles[i]);
    }
    return out;
  }

  free(h) {
    this.#map.delete(h);
  }
}
