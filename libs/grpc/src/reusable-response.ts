import type { PackageDefinition } from '@grpc/proto-loader';

const ENCODED = Symbol('troupe.grpc.encoded');

/** The protobuf bytes of a reusable response, and which method's serializer made them. */
interface EncodedSlot {
  serialize?: (value: unknown) => Buffer;
  bytes?: Buffer;
}

/**
 * Marks a response that is sent many times unchanged (a cache hit): the gRPC server encodes it
 * the first time and sends the same bytes afterwards, so a hit costs no protobuf conversion and
 * allocates nothing per call. The object is frozen, because the bytes would not follow a change.
 */
export function reusableResponse<T extends object>(response: T): T {
  Object.defineProperty(response, ENCODED, { value: {} satisfies EncodedSlot });
  return Object.freeze(response);
}

/** Whether `response` was marked by reusableResponse (for tests and accounting). */
export function isReusableResponse(response: object): boolean {
  return ENCODED in response;
}

/**
 * Wraps every method's response serializer in a loaded package definition so reusable
 * responses are encoded once; other responses are encoded as before. Called by the gRPC server
 * options before the services are registered.
 */
export function reuseEncodedResponses(definition: PackageDefinition): PackageDefinition {
  for (const service of Object.values(definition)) {
    if ('format' in service) continue; // message and enum types, not services
    for (const method of Object.values(service)) {
      const encode = method.responseSerialize as (value: unknown) => Buffer;
      method.responseSerialize = (value: unknown) => {
        const slot = (value as { [ENCODED]?: EncodedSlot } | null)?.[ENCODED];
        if (!slot) return encode(value);
        if (slot.serialize !== encode) {
          slot.bytes = encode(value);
          slot.serialize = encode;
        }
        return slot.bytes!;
      };
    }
  }
  return definition;
}
