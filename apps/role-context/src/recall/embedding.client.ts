import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { PeerChannels, routeByModelField } from '@troupe/discovery';
import { GrpcCallError, GrpcCaller } from '@troupe/grpc';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { RoleContextConfig } from '../role-context.config';

export interface Embeddings {
  model: string;
  vectors: number[][];
}

/**
 * The inference service's Embed, as recall memory needs it: vectors, or undefined when the
 * service cannot embed (UNIMPLEMENTED, down, bad answer). After a failure it is not asked
 * again for EMBED_RETRY_MS, so a missing embedder costs one failed call, not one per turn.
 */
@Injectable()
export class EmbeddingClient implements OnApplicationShutdown {
  private readonly grpc: GrpcCaller;
  private unavailableUntil = 0;
  private lastProblem = '';

  constructor(
    private readonly config: RoleContextConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    peers: PeerChannels,
  ) {
    this.grpc = peers.open({ contract: INFERENCE_CONTRACT, service: 'inference', staticAddress: config.INFERENCE_ADDRESS, deadlineMs: 2000, modelOf: routeByModelField(['embed']) });
  }

  async embed(texts: string[]): Promise<Embeddings | undefined> {
    if (texts.length === 0 || Date.now() < this.unavailableUntil) return undefined;
    try {
      const response = await this.grpc.unary<inference.EmbedRequest, inference.EmbedResponse>('embed', { model: this.config.EMBEDDING_MODEL, texts });
      const vectors = response.embeddings.map((e) => e.values);
      if (vectors.length !== texts.length || vectors.some((v) => v.length === 0 || v.length !== vectors[0].length)) {
        throw new Error(`Embed answered ${vectors.length} vectors for ${texts.length} texts, or vectors of differing sizes`);
      }
      this.lastProblem = '';
      return { model: response.model || this.config.EMBEDDING_MODEL, vectors };
    } catch (e) {
      const problem = e instanceof GrpcCallError ? `${e.code}: ${e.details}` : (e as Error).message;
      this.unavailableUntil = Date.now() + this.config.EMBED_RETRY_MS;
      if (problem !== this.lastProblem) this.logger.warn({ problem }, 'Embed unavailable; recall uses keyword search');
      this.lastProblem = problem;
      return undefined;
    }
  }

  onApplicationShutdown(): void {
    this.grpc.close();
  }
}
