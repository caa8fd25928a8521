import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize, resolve, sep } from 'node:path';

export interface ChatLikeMessage {
  role: string;
  name: string;
  content: string;
}

/** Counts (or encodes) prompt messages the way the inference chat template lays them out. */
export interface MessageTokenizer {
  /** "model:<name>" or "estimate". */
  readonly label: string;
  encodeMessage(message: ChatLikeMessage): number[] | undefined;
  countMessage(message: ChatLikeMessage): number;
  /** Tokens after the last message: the assistant header the model continues from. */
  trailer(): number;
}

const DEFAULT_CHAT_TOKENS: Record<string, string> = { system: '<|system|>', user: '<|user|>', assistant: '<|assistant|>', end: '<|end|>' };

/**
 * A model's own tokenizer: `<|role|>\n` + `name: content` (special-token text in content stays
 * plain) + `<|end|>\n` — the layout of the inference service's chat template, so a budget
 * counted here is the prompt the model will see.
 */
export class ModelMessageTokenizer implements MessageTokenizer {
  private readonly headerIds = new Map<string, number[]>();
  private readonly endIds: number[];

  constructor(
    readonly label: string,
    private readonly tokenizer: ByteLevelBpeTokenizer,
    chatTokens: Record<string, string>,
  ) {
    for (const role of ['system', 'user', 'assistant']) this.headerIds.set(role, tokenizer.encode(`${chatTokens[role] ?? DEFAULT_CHAT_TOKENS[role]}\n`));
    this.endIds = tokenizer.encode(`${chatTokens.end ?? DEFAULT_CHAT_TOKENS.end}\n`);
  }

  encodeMessage(m: ChatLikeMessage): number[] {
    const body = this.tokenizer.encode((m.name ? `${m.name}: ` : '') + m.content, { parseSpecialTokens: false });
    return [...(this.headerIds.get(m.role) ?? this.headerIds.get('user')!), ...body, ...this.endIds];
  }

  trailer(): number {
    return this.headerIds.get('assistant')!.length;
  }

  countMessage(m: ChatLikeMessage): number {
    const body = this.tokenizer.encode((m.name ? `${m.name}: ` : '') + m.content, { parseSpecialTokens: false }).length;
    return (this.headerIds.get(m.role)?.length ?? 2) + body + this.endIds.length;
  }
}

/** When the bound model is not installed here: about four UTF-8 bytes per token, plus the framing. */
export class EstimatingMessageTokenizer implements MessageTokenizer {
  readonly label = 'estimate';
  encodeMessage(): undefined {
    return undefined;
  }
  trailer(): number {
    return 2;
  }
  countMessage(m: ChatLikeMessage): number {
    return Math.ceil(Buffer.byteLength((m.name ? `${m.name}: ` : '') + m.content) / 4) + 4;
  }
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Loads `<modelsDir>/<model>/manifest.json` and the tokenizer it names; undefined when absent or invalid. */
export function loadModelTokenizer(modelsDir: string, model: string): { tokenizer?: MessageTokenizer; problem?: string } {
  if (!MODEL_NAME.test(model)) return { problem: `model name "${model}" is not a folder name` };
  const dir = resolve(modelsDir, model);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return { problem: `${manifestPath} not found` };
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: { tokenizer?: unknown }; specialTokens?: Record<string, string> };
    const file = manifest.files?.tokenizer;
    if (typeof file !== 'string' || file.length === 0) return { problem: `${manifestPath}: files.tokenizer must be a path` };
    const path = normalize(join(dir, file));
    if (!path.startsWith(dir + sep)) return { problem: `${manifestPath}: files.tokenizer leaves the model folder` };
    const specials = typeof manifest.specialTokens === 'object' && manifest.specialTokens ? manifest.specialTokens : {};
    return { tokenizer: new ModelMessageTokenizer(`model:${model}`, ByteLevelBpeTokenizer.fromFile(path), specials) };
  } catch (e) {
    return { problem: `${manifestPath}: ${(e as Error).message}` };
  }
}
