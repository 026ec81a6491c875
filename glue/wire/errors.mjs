// errors.mjs - ferry's error codes on the JS side and the FerryError class.
//
// ERRNO mirrors FERRY_ERRNO_MAP in include/ferry/error.h (a test reads
// both). An error travels as an envelope of kind ERROR whose body is
// {code, name, message} (docs/wire-format.md).

export const ERRNO = Object.freeze({
  OK: 0, EINVAL: -1, ENOMEM: -2, ENOSPC: -3, ETRUNCATED: -4, EMALFORMED: -5,
  EINVALID: -6, ETRAILING: -7, ELIMIT: -8, ETYPE: -9, ERANGE: -10, EMISSING: -11,
  EDOWN: -12, ETIMEDOUT: -13, EFULL: -14, ECANCELED: -15, ENOTFOUND: -16,
  ECLOSED: -17, EREMOTE: -18, EBUSY: -19,
});
const NAMES = Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [v, k]));
export const errnoName = (errno) => NAMES[errno] || 'EUNKNOWN';

/**
 * An error from ferry: `code` is the FERRY_E* name ('EDOWN', 'ETIMEDOUT',
 * ...), `errno` its negative number; `actor` the id involved, if any.
 */
export class FerryError extends Error {
  constructor(code, message, extra = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'FerryError';
    this.code = code;
    this.errno = ERRNO[code] ?? extra.errno ?? -1;
    if (extra.actor !== undefined) this.actor = extra.actor;
    if (extra.remoteName) this.remoteName = extra.remoteName;
    if (extra.remoteStack) this.remoteStack = extra.remoteStack;
    // An undelivered message: where it was going, its type and corr.
    if (extra.to !== undefined) this.to = extra.to;
    if (extra.messageType !== undefined) this.messageType = extra.messageType;
    if (extra.corr !== undefined) this.corr = extra.corr;
  }
}

/** Builds the error body {code, name, message} of the wire format. */
export function errorBody(code, message, extra) {
  const body = { code: ERRNO[code] ?? -1, name: code, message };
  if (extra?.stack) body.stack = extra.stack;
  return body;
}

/** Turns a decoded error body into a FerryError. */
export function errorFromBody(body, actor) {
  const errno = typeof body?.code === 'number' ? body.code : ERRNO.EREMOTE;
  const code = typeof body?.name === 'string' && body.name in ERRNO ? body.name : errnoName(errno);
  return new FerryError(code === 'EUNKNOWN' ? 'EREMOTE' : code,
    typeof body?.message === 'string' ? body.message : 'remote error', {
      errno, actor, remoteName: body?.name, remoteStack: body?.stack,
      to: typeof body?.to === 'number' ? body.to : undefined,
      messageType: typeof body?.type === 'string' ? body.type : undefined,
      corr: typeof body?.corr === 'number' ? body.corr : undefined,
    });
}
