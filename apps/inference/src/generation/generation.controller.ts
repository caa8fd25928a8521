import { Controller } from '@nestjs/common';
import { Deadline, Metadata, status } from '@grpc/grpc-js';
import { inference } from '@troupe/contracts';
import { grpcError, validateGrpcRequest } from '@troupe/grpc';
import { Observable, catchError, defer, throwError } from 'rxjs';
import { ModelNotFoundError, ModelRegistryService } from '../models/model-registry.service';
import { EmbedRequestDto } from '../embeddings/dto/embed-request.dto';
import { EmbeddingService } from '../embeddings/embedding.service';
import { GenerateRequestDto } from './dto/generate-request.dto';
import { ModelRequestDto } from './dto/model-request.dto';
import { GenerationService, StreamOutlet } from './generation.service';

function toRpcError(e: unknown) {
  if (e instanceof ModelNotFoundError) return grpcError(status.NOT_FOUND, e.message);
  if (e && typeof e === 'object' && 'getError' in e) return e;
  return grpcError(status.INTERNAL, (e as Error).message);
}

/** A gRPC call deadline as epoch ms (undefined when the call has none). */
function deadlineMs(d: Deadline | undefined): number | undefined {
  const ms = d instanceof Date ? d.getTime() : d;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

@Controller()
@inference.InferenceServiceControllerMethods()
export class GenerationController implements inference.InferenceServiceController {
  constructor(
    private readonly generation: GenerationService,
    private readonly models: ModelRegistryService,
    private readonly embeddings: EmbeddingService,
  ) {}

  /** Unsubscribing (the client cancelled, or the deadline passed) aborts decoding in the worker. */
  generate(
    request: inference.GenerateRequest,
    _metadata?: Metadata,
    call?: { getDeadline?(): Deadline } & Partial<StreamOutlet>,
  ): Observable<inference.GenerateResponse> {
    // The call is a Writable on the gRPC server; its backpressure lets the service coalesce tokens.
    const outlet = call && typeof call.once === 'function' && 'writableNeedDrain' in call ? (call as StreamOutlet) : undefined;
    return defer(() => this.generation.generate(validateGrpcRequest(GenerateRequestDto, request), deadlineMs(call?.getDeadline?.()), outlet)).pipe(
      catchError((e: unknown) => throwError(() => toRpcError(e))),
    );
  }

  listModels(): inference.ListModelsResponse {
    return { models: this.models.list() };
  }

  loadModel(request: inference.LoadModelRequest): Promise<inference.LoadModelResponse> {
    return this.admin(request, (name) => this.models.loadFolder(name));
  }

  reloadModel(request: inference.ReloadModelRequest): Promise<inference.ReloadModelResponse> {
    return this.admin(request, (name) => this.models.reload(name));
  }

  unloadModel(request: inference.UnloadModelRequest): Promise<inference.UnloadModelResponse> {
    return this.admin(request, (name) => this.models.unload(name));
  }

  private async admin(request: { name: string }, op: (name: string) => Promise<inference.ModelInfo>): Promise<{ model: inference.ModelInfo }> {
    const { name } = validateGrpcRequest(ModelRequestDto, request);
    try {
      return { model: await op(name) };
    } catch (e) {
      throw toRpcError(e);
    }
  }

  /** Vectors for texts, dynamically batched with other callers' texts. */
  async embed(request: inference.EmbedRequest, _metadata?: Metadata, call?: { getDeadline?(): Deadline }): Promise<inference.EmbedResponse> {
    try {
      return await this.embeddings.embed(validateGrpcRequest(EmbedRequestDto, request), deadlineMs(call?.getDeadline?.()));
    } catch (e) {
      throw toRpcError(e);
    }
  }

  countTokens(request: inference.CountTokensRequest): inference.CountTokensResponse {
    try {
      return { counts: this.generation.countTokens(request.model, request.texts ?? []) };
    } catch (e) {
      throw toRpcError(e);
    }
  }
}
