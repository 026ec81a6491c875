// Types for `ferry/cbor` (glue/serializer.mjs), the JS twin of the serializer.
export const TAG_OOB: 41999;
export class OutOfBand {
  constructor(index: number);
  readonly index: number;
}
/** May share memory with a reused buffer: copy before transferring. */
export function encode(value: unknown): Uint8Array;
/** A standalone ArrayBuffer of exactly the encoded size. */
export function encodeToArrayBuffer(value: unknown): ArrayBuffer;
export function decode(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): any;
