import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildResult } from './tiny-decoder.build';

export const PACED_NAME = 'paced';

/**
 * The `paced` benchmark model: no weights, a reply streamed at a set pace (5 ms a token here),
 * and a few scripted replies so end-to-end tests can drive tool calls through real services.
 * It borrows the tiny decoder's tokenizer, so it is built after it.
 */
export function buildPaced(outRoot: string, opts: { force?: boolean } = {}): BuildResult {
  const dir = join(outRoot, PACED_NAME);
  const manifest = {
    name: PACED_NAME,
    version: '1',
    kind: 'paced',
    files: { tokenizer: 'tokenizer.json' },
    paceMs: 5,
    contextLength: 4096,
    eosToken: '<|end|>',
    text: 'The harbour lights came on one by one while the ferry waited at the quay. ',
    rules: [
      { when: '<tool_result>', reply: 'The tool answered; that settles it.' },
      { when: '<tool_error>', reply: 'The tool did not answer, so I will leave it there.' },
      { when: 'calculate', reply: 'Let me work it out. <tool_call>{"name": "calculator", "arguments": {"expression": "6 * 7"}}</tool_call>' },
      { when: 'delegate', reply: 'I will hand that off. <tool_call>{"name": "delegate", "arguments": {"role": "helper", "task": "Write one line about the harbour."}}</tool_call>' },
      { when: 'announce', reply: 'I will announce it. <tool_call>{"name": "announce", "arguments": {"message": "The show starts now"}}</tool_call>' },
    ],
  };
  const json = JSON.stringify(manifest, null, 2) + '\n';
  const manifestPath = join(dir, 'manifest.json');
  if (!opts.force && existsSync(manifestPath) && readFileSync(manifestPath, 'utf8') === json && existsSync(join(dir, 'tokenizer.json'))) {
    return { dir, skipped: true };
  }
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(outRoot, 'tiny-decoder', 'tokenizer.json'), join(dir, 'tokenizer.json'));
  writeFileSync(manifestPath, json);
  return { dir, skipped: false };
}
