import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { PeerChannels, routeByModelField } from '@troupe/discovery';
import { GrpcCallOptions, GrpcCaller } from '@troupe/grpc';

/** Typed calls to the inference service. */
export class InferenceClient {
  constructor(readonly grpc: GrpcCaller) {}

  /** The inference service at `address`, or its instances in the registry (DISCOVERY=redis). */
  static open(peers: PeerChannels, address: string, deadlineMs: number): InferenceClient {
    return new InferenceClient(peers.open({ contract: INFERENCE_CONTRACT, service: 'inference', staticAddress: address, deadlineMs, modelOf: routeByModelField(['generate', 'embed']) }));
  }

  /** Server-streamed generation; aborting the signal cancels decoding in the worker. */
  generate(request: inference.GenerateRequest, options?: GrpcCallOptions): AsyncGenerator<inference.GenerateResponse> {
    return this.grpc.serverStream('generate', request, options);
  }

  listModels(options?: GrpcCallOptions): Promise<inference.ListModelsResponse> {
    return this.grpc.unary('listModels', {}, options);
  }

  /** Load, reload or unload a model folder on the inference instance this client reaches (with discovery: the one instance the pool picks). */
  changeModel(action: 'loadModel' | 'reloadModel' | 'unloadModel', name: string, options?: GrpcCallOptions): Promise<{ model?: inference.ModelInfo }> {
    // Loading builds ONNX sessions in worker threads: allow more than the default deadline.
    return this.grpc.unary(action, { name }, { deadlineMs: 120_000, ...options });
  }
}
