import { TickGrid, TickHandle } from '@troupe/timing';
import { ByteLevelBpeTokenizer, StreamingDetokenizer } from '@troupe/tokenizer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProviderStatus } from './causal-lm.session';
import { CHAT_TOKENS } from './chat-template';
import { GenerationSink } from './generation-worker.client';
import { EngineStats, GenerateRequest, TokenEvent } from './generation.types';

/**
 * A `paced` model: no compute, it streams a configured reply at a set pace. It measures what
 * the runtime itself costs (benchmarks) and gives end-to-end tests replies they can rely on
 * (tool calls, approvals) while going through the real inference service and its streaming.
 *
 * manifest.json: { name, version, kind: "paced", files: { tokenizer }, paceMs, contextLength,
 *   eosToken, text, rules?: [{ when, reply }] } — `rules` are tried in order against the last
 *   user message (case-insensitive substring); without a match the model repeats `text`
 *   up to max_new_tokens (finish "length"); a rule's reply ends with finish "stop".
 */
export interface PacedManifest {
  name: string;
  version: string;
  kind: 'paced';
  files: { tokenizer: string };
  paceMs: number;
  contextLength: number;
  eosToken: string;
  text: string;
  rules: { when: string; reply: string }[];
}

export function parsePacedManifest(json: unknown): PacedManifest {
  const m = json as Partial<PacedManifest>;
  const fail = (field: string, problem: string): never => {
    throw new Error(`invalid paced manifest: "${field}" ${problem}`);
  };
  if (typeof m !== 'object' || m === null) fail('(manifest)', 'must be an object');
  if (typeof m.name !== 'string' || !m.name) fail('name', 'must be a non-empty string');
  if (m.kind !== 'paced') fail('kind', 'must be "paced"');
  if (typeof m.files?.tokenizer !== 'string' || m.files.tokenizer.includes('..')) fail('files.tokenizer', 'must be a file in the model folder');
  if (typeof m.paceMs !== 'number' || m.paceMs < 0 || m.paceMs > 60_000) fail('paceMs', 'must be 0..60000');
  if (typeof m.text !== 'string' || !m.text) fail('text', 'must be a non-empty string');
  const rules = m.rules ?? [];
  if (!Array.isArray(rules) || rules.some((r) => typeof r?.when !== 'string' || typeof r?.reply !== 'string' || !r.reply)) {
    fail('rules', 'must be a list of { when, reply } strings');
  }
  return {
    name: m.name!,
    version: String(m.version ?? '1'),
    kind: 'paced',
    files: { tokenizer: m.files!.tokenizer },
    paceMs: m.paceMs!,
    contextLength: m.contextLength ?? 4096,
    eosToken: m.eosToken ?? CHAT_TOKENS.end,
    text: m.text!,
    rules,
  };
}

export class PacedModelClient {
  private open = 0;
  /**
   * Held tokens of every stream go out on one grid (the stream interval), as a batched engine's
   * do at its decode steps: the streams' messages then leave together instead of each on its own timer.
   */
  private readonly ticks: TickGrid;

  private constructor(
    readonly manifest: PacedManifest,
    readonly tokenizer: ByteLevelBpeTokenizer,
    private readonly streamIntervalMs: number,
  ) {
    this.ticks = new TickGrid(streamIntervalMs);
  }

  /**
   * `streamIntervalMs` is the service's stream interval, kept as the ONNX workers keep it: a
   * token waits up to that long (to the grid's next tick) to go out with the request's next
   * ones (a first token and the end never wait), so a paced model is streamed like a real one.
   */
  static async start(modelDir: string, streamIntervalMs = 0): Promise<PacedModelClient> {
    const manifest = parsePacedManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
    return new PacedModelClient(manifest, ByteLevelBpeTokenizer.fromFile(join(modelDir, manifest.files.tokenizer)), streamIntervalMs);
  }

  /** No compute, so no execution provider; reported as such in the model status. */
  readonly executionProvider: ExecutionProviderStatus = { requested: [], active: 'none' };

  get openStreams(): number {
    return this.open;
  }

  onStats(_listener: (s: EngineStats, batchSizes: readonly number[]) => void): () => void {
    return () => undefined;
  }

  /** Streams the reply token by token at the model's pace; the returned function cancels. */
  submit(req: GenerateRequest, sink: GenerationSink): () => void {
    const reply = this.replyFor(req.promptTokenIds);
    const ids = this.tokenizer.encode(reply.text, { parseSpecialTokens: false });
    const total = reply.repeat ? req.maxNewTokens : Math.min(req.maxNewTokens, ids.length);
    const detokenizer = new StreamingDetokenizer(this.tokenizer);
    let index = 0;
    let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
    let flush: TickHandle | undefined;
    const clear = () => {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
      flush?.cancel();
      flush = undefined;
    };
    let stopped = false;
    this.open++;
    // Tokens decoded since the last event, and when that event went out.
    let held: TokenEvent | undefined;
    let sentAt = 0;
    const send = () => {
      flush?.cancel();
      flush = undefined;
      if (held) sink.push(held);
      held = undefined;
      sentAt = Date.now();
    };
    const finish = (finishReason: 'stop' | 'length' | 'cancelled') => {
      if (stopped) return;
      stopped = true;
      this.open--;
      clear();
      if (finishReason !== 'cancelled') send();
      sink.push({ type: 'done', finishReason, promptTokens: req.promptTokenIds.length, completionTokens: index, queueMs: 0 });
    };
    const step = () => {
      if (stopped) return;
      if (req.deadlineAt !== undefined && Date.now() > req.deadlineAt) return finish('cancelled');
      if (index >= total) return finish(reply.repeat || total < ids.length ? 'length' : 'stop');
      const tokenId = ids[index % ids.length];
      const text = detokenizer.push(tokenId);
      if (held) {
        held.tokenIds.push(tokenId);
        held.text += text;
      } else held = { type: 'token', tokenIds: [tokenId], text, index };
      if (index++ === 0 || this.streamIntervalMs === 0) send();
      else flush ??= this.ticks.after(sentAt + this.streamIntervalMs - Date.now(), send);
      timer = this.manifest.paceMs > 0 ? setTimeout(step, this.manifest.paceMs) : setImmediate(step);
    };
    timer = this.manifest.paceMs > 0 ? setTimeout(step, this.manifest.paceMs) : setImmediate(step);
    return () => {
      if (!stopped) {
        stopped = true;
        this.open--;
        clear();
      }
    };
  }

  async drainAndClose(): Promise<void> {
    while (this.open > 0) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    return undefined;
  }

  /** The reply the rules pick for the last user message, or the repeated default text. */
  private replyFor(promptTokenIds: number[]): { text: string; repeat: boolean } {
    const prompt = this.tokenizer.decode(promptTokenIds, { skipSpecialTokens: false });
    const lastUser = prompt.split(CHAT_TOKENS.user).pop()?.split(CHAT_TOKENS.end)[0]?.toLowerCase() ?? '';
    const rule = this.manifest.rules.find((r) => lastUser.includes(r.when.toLowerCase()));
    return rule ? { text: rule.reply, repeat: false } : { text: this.manifest.text, repeat: true };
  }
}
