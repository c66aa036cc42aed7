// The comparison suite's packages (bench/package.json) as shorthand modules typed `any`, for a build
// without bench/node_modules (tsconfig.no-bench.json, chosen by scripts/tsc.mjs): the bench then
// compiles and reports those engines as not installed when run. Never in the program when
// bench/node_modules is installed, so the packages' own types apply there.
declare module "@tensorflow/tfjs-backend-wasm";
declare module "@tensorflow/tfjs-core";
declare module "edge-runtime";
declare module "onnxruntime-web";
declare module "sharp";
