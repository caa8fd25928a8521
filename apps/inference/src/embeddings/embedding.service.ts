import { Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { inference } from '@troupe/contracts';
import { grpcError } from '@troupe/grpc';
import { InferenceConfig } from '../inference.config';
import { ModelRegistryService } from '../models/model-registry.service';
import { BatcherRejection } from '../runtime/dynamic-batcher';
import { EmbedRequestDto } from './dto/embed-request.dto';

const REJECTIONS: Record<BatcherRejection['reason'], status> = {
  'queue-full': status.RESOURCE_EXHAUSTED,
  deadline: status.DEADLINE_EXCEEDED,
  closed: status.UNAVAILABLE,
};

/** Vectors for texts from an embedding model, through its dynamic batcher. */
@Injectable()
export class EmbeddingService {
  constructor(
    private readonly models: ModelRegistryService,
    private readonly config: InferenceConfig,
  ) {}

  async embed(request: EmbedRequestDto, callDeadline?: number): Promise<inference.EmbedResponse> {
    const model = this.models.getEmbedding(request.model);
    const deadlineAt = Math.min(Date.now() + this.config.INFERENCE_DEFAULT_TIMEOUT_MS, callDeadline ?? Infinity);
    try {
      const vectors = await model.embed(request.texts, deadlineAt);
      return { embeddings: vectors.map((v) => ({ values: Array.from(v) })), model: model.manifest.name, dimensions: model.manifest.dimensions };
    } catch (e) {
      if (e instanceof BatcherRejection) throw grpcError(REJECTIONS[e.reason], `${model.manifest.name}: ${e.message}`);
      throw e;
    }
  }
}
