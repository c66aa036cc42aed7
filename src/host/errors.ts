// Typed errors. Every error names what it is about (a file, tensor, op or argument) and
// what was expected versus found, so a user can act on the message alone. Each class states its
// `name` as a string literal, so the names survive minifiers that rename classes.

/** Base class of every error this library throws on purpose. */
export class InceptionError extends Error {
  override name = "InceptionError";
  /** Stable machine-readable code, e.g. "E_WEIGHTS". */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A wasm build could not be read, compiled or instantiated. */
export class WasmLoadError extends InceptionError {
  override name = "WasmLoadError";
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super("E_WASM", `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A weight file (MAT or converted) is missing, truncated, corrupt or does not fit the network. */
export class WeightsError extends InceptionError {
  override name = "WeightsError";
  readonly file: string;
  readonly tensor: string | undefined;
  constructor(file: string, tensor: string | undefined, message: string, options?: { cause?: unknown }) {
    super("E_WEIGHTS", `${file}${tensor ? ` [tensor ${tensor}]` : ""}: ${message}`, options);
    this.file = file;
    this.tensor = tensor;
  }
}

/** An image could not be decoded or is not usable as network input. */
export class ImageError extends InceptionError {
  override name = "ImageError";
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super("E_IMAGE", `${file}: ${message}`, options);
    this.file = file;
  }
}

/** An argument to an op or API call is out of its contract (shape, range, alignment). */
export class ArgumentError extends InceptionError {
  override name = "ArgumentError";
  readonly op: string;
  readonly argument: string;
  constructor(op: string, argument: string, expected: string, found: unknown) {
    super("E_ARGUMENT", `${op}: argument '${argument}' expected ${expected}, found ${String(found)}`);
    this.op = op;
    this.argument = argument;
  }
}

/** A worker or executor failed while running an op; the op is named. */
export class ExecutionError extends InceptionError {
  override name = "ExecutionError";
  readonly op: string;
  constructor(op: string, message: string, options?: { cause?: unknown }) {
    super("E_EXECUTION", `${op}: ${message}`, options);
    this.op = op;
  }
}

/** A network or worker pool was used after dispose(); the call is named. */
export class DisposedError extends InceptionError {
  override name = "DisposedError";
  readonly op: string;
  constructor(op: string, message: string) {
    super("E_DISPOSED", `${op}: ${message}`);
    this.op = op;
  }
}
