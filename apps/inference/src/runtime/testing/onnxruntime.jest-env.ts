import NodeEnvironment from 'jest-environment-node';

/**
 * Jest runs specs in a vm sandbox with its own typed-array constructors, but onnxruntime-node's
 * native code returns outer-realm Float32Array/BigInt64Array, which then fail onnxruntime-common's
 * `instanceof` checks ("A float32 tensor's data must be type of Float32Array"). Specs that use
 * onnxruntime in-process opt into this environment with a docblock:
 *   @jest-environment ./apps/inference/src/runtime/testing/onnxruntime.jest-env.ts
 * (Code under test normally runs onnxruntime in a worker thread, which is outside the sandbox.)
 */
export default class OnnxRuntimeEnvironment extends NodeEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    const shared = [
      ArrayBuffer, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array,
      Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
    ];
    for (const ctor of shared) (this.global as Record<string, unknown>)[ctor.name] = ctor;
  }
}
