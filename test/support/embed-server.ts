import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { INFERENCE_CONTRACT, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@troupe/contracts';
import { join } from 'node:path';

/**
 * A real gRPC server speaking the inference contract that implements only Embed (every other
 * method answers UNIMPLEMENTED, as grpc-js does for missing handlers). Its embedding is
 * deterministic: one dimension per concept, counting the concept's words in the text, so
 * "Which city?" lands near "lives in Porto" with no word in common.
 */
export class EmbedServer {
  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    /** The texts of every Embed call, in order. */
    readonly calls: string[][],
  ) {}

  static readonly CONCEPTS: string[][] = [
    ['city', 'lives', 'live', 'porto', 'town', 'where'],
    ['cat', 'pet', 'dog', 'miso', 'animal'],
    ['coffee', 'tea', 'drink', 'drinks', 'espresso'],
    ['work', 'job', 'engineer', 'office'],
  ];

  static embed(text: string): number[] {
    const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
    // A constant last dimension keeps every vector non-zero.
    return [...EmbedServer.CONCEPTS.map((concept) => words.filter((w) => concept.includes(w)).length), 0.1];
  }

  static async start(): Promise<EmbedServer> {
    const definition = protoLoader.loadSync(join(PROTO_ROOT, INFERENCE_CONTRACT.protoFile), { ...PROTO_LOADER_OPTIONS });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      troupe: { inference: { v1: { InferenceService: grpc.ServiceClientConstructor } } };
    };
    const server = new grpc.Server();
    const calls: string[][] = [];
    server.addService(pkg.troupe.inference.v1.InferenceService.service, {
      embed: (call: grpc.ServerUnaryCall<{ model: string; texts: string[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        calls.push(call.request.texts);
        const embeddings = call.request.texts.map((t) => ({ values: EmbedServer.embed(t) }));
        callback(null, { embeddings, model: call.request.model || 'test-concepts', dimensions: EmbedServer.CONCEPTS.length + 1 });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return new EmbedServer(server, port, calls);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
