// bench:inference's in-process figures, run in a worker thread of the bench: onnxruntime-node
// straight, no scheduler, transport or streaming. A worker thread because that is where the
// service's engine runs too. On the bench's main thread the same loop measured 18k–53k tok/s at
// batch 64 between consecutive runs, while the engine in a worker thread made 45k–56k in the
// same runs: the main thread, carrying the bench's gRPC client and modules, made a ceiling the
// service could pass.
// workerData: { modelDir, newTokens }. Messages in: { prompts: number[][], batch, repeat };
// out: { tps } (tokens/s of the prompts in groups of `batch`, the whole set `repeat` times).
const { parentPort, workerData } = require('node:worker_threads');
const { join } = require('node:path');

const runtime = join(workerData.repoRoot, 'dist', 'apps', 'inference', 'src', 'runtime');
const { CausalLmSession } = require(join(runtime, 'causal-lm.session.js'));
const { argmax } = require(join(runtime, 'sampling.js'));

/** One group decoded together, as the engine runs a burst: one padded prefill, then greedy steps. */
async function generateGroup(session, prompts) {
  const caches = prompts.map(() => session.createSequence().cache);
  const last = (await session.prefillBatch(caches, prompts)).map(argmax);
  for (let step = 1; step < workerData.newTokens; step++) {
    const logits = await session.decodeBatch(caches, last);
    logits.forEach((l, i) => (last[i] = argmax(l)));
  }
  return prompts.length * workerData.newTokens;
}

async function main() {
  const session = await CausalLmSession.load(workerData.modelDir);
  parentPort.on('message', async ({ prompts, batch, repeat }) => {
    const started = performance.now();
    let tokens = 0;
    for (let r = 0; r < repeat; r++) {
      for (let i = 0; i < prompts.length; i += batch) tokens += await generateGroup(session, prompts.slice(i, i + batch));
    }
    parentPort.postMessage({ tps: tokens / ((performance.now() - started) / 1000) });
  });
  parentPort.postMessage({ ready: true });
}

main().catch((e) => {
  parentPort.postMessage({ error: e.message });
});
