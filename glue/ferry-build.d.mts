// Types for `ferry/build` (glue/ferry-build.mjs): ferry-build as a library,
// for build scripts that drive emcc themselves or call ferry-build from JS.

/** Absolute paths of ferry's C runtime sources, compiled into every module. */
export const RUNTIME_SOURCES: readonly string[];

/** The C dialect and warnings: ['-std=gnu11', '-Wall', '-Wextra']. */
export const DIALECT: readonly string[];

/** The emcc arguments of a ferry module, before the user's own flags. */
export function ferryFlags(options?: {
  /** '-O0' ... '-O3', '-Os', '-Oz' (default '-O2'). */
  opt?: '-O0' | '-O1' | '-O2' | '-O3' | '-Os' | '-Oz';
  /** Keep debug information (-g). */
  debug?: boolean;
}): string[];

export interface BuildOptions {
  /** C sources with FERRY_ACTOR(...) in them. */
  inputs: string[];
  /** Output path, ending in .wasm. */
  out: string;
  opt: '-O0' | '-O1' | '-O2' | '-O3' | '-Os' | '-Oz';
  debug: boolean;
  verbose: boolean;
  /** Further emcc arguments, after ferry's (so they win). */
  extra: string[];
  help: boolean;
  version: boolean;
}

/** Parses a ferry-build command line (without `node` and the script).
 * Throws an Error that says what is wrong with it. */
export function parseArgs(argv: readonly string[]): BuildOptions;

/** Compiles a module; resolves with the output path. Rejects with an Error
 * whose message says what to do (emcc missing, compile errors, no actors). */
export function build(options: BuildOptions): Promise<string>;

/** The command itself: resolves with its exit status (0 ok, 1 failed,
 * 2 usage error), having printed any message on stderr. */
export function main(argv: readonly string[]): Promise<number>;
