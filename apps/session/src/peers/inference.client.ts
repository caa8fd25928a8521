import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { PeerChannels, routeByModelField } from '@troupe/discovery';
import { GrpcCallOptions, GrpcCaller, InstanceOutcome } from '@troupe/grpc';

/** One inference instance's part of an operator's call: what it answered, or why it failed. */
export interface InstanceReport<T> {
  instance: string;
  address: string;
  result?: T;
  error?: { code: string; message: string };
}

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

  /**
   * The models of every instance (with discovery there may be several, each with its own models
   * directory): each model once, as the first instance serving it reports it, and what each
   * instance reported. Fails only when no instance answered.
   */
  async listModelsEverywhere(options?: GrpcCallOptions): Promise<{ models: inference.ModelInfo[]; instances: InstanceReport<inference.ModelInfo[]>[] }> {
    const outcomes = answered(await this.grpc.unaryEach<object, inference.ListModelsResponse>('listModels', {}, options));
    const models = new Map<string, inference.ModelInfo>();
    for (const o of outcomes) for (const m of o.response?.models ?? []) if (!models.has(m.name)) models.set(m.name, m);
    return { models: [...models.values()], instances: outcomes.map((o) => report(o, (r) => r.models)) };
  }

  /**
   * Load, reload or unload a model folder on every inference instance. `model` is the first
   * instance's result that succeeded; `instances` says what each did (a folder one instance
   * lacks is NOT_FOUND there). Fails only when every instance failed.
   */
  async changeModel(
    action: 'loadModel' | 'reloadModel' | 'unloadModel',
    name: string,
    options?: GrpcCallOptions,
  ): Promise<{ model?: inference.ModelInfo; instances: InstanceReport<inference.ModelInfo>[] }> {
    // Loading builds ONNX sessions in worker threads: allow more than the default deadline.
    const outcomes = answered(await this.grpc.unaryEach<{ name: string }, { model?: inference.ModelInfo }>(action, { name }, { deadlineMs: 120_000, ...options }));
    return { model: outcomes.find((o) => o.response)?.response?.model, instances: outcomes.map((o) => report(o, (r) => r.model)) };
  }
}

/** The outcomes, unless no instance answered: then the first failure, as a single instance's would be. */
function answered<Res>(outcomes: InstanceOutcome<Res>[]): InstanceOutcome<Res>[] {
  if (!outcomes.some((o) => o.response !== undefined)) throw outcomes[0].error;
  return outcomes;
}

function report<Res, T>(o: InstanceOutcome<Res>, pick: (response: Res) => T | undefined): InstanceReport<T> {
  const base = { instance: o.instance, address: o.address };
  if (o.error) return { ...base, error: { code: o.error.statusName, message: o.error.details } };
  return { ...base, result: o.response === undefined ? undefined : pick(o.response) };
}
