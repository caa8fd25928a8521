/**
 * Entry of a plugin host child process: one per plugin, started by PluginProcess with an empty
 * environment, a small V8 heap and OS resource limits. The plugin's code runs inside an
 * isolated-vm isolate (its own heap with a hard limit, no Node APIs, no require beyond the
 * plugin's own files and the SDK); this process only relays calls and enforces time limits.
 * It imports nothing from the service so a compromised isolate finds nothing of it here.
 */
import ivm from 'isolated-vm';
import type { CallOutcome, HostMessage, InvokeMessage, LoadMessage, ParentMessage } from './host-protocol';

/** CommonJS for the plugin's files inside the isolate; `__defs` holds one wrapper per file. */
const LOADER = `
const __cache = {};
function __resolve(from, spec) {
  if (spec === '@troupe/plugin-sdk') return '@sdk';
  if (!spec.startsWith('./') && !spec.startsWith('../')) {
    throw new Error('cannot require "' + spec + '": a plugin may require only its own files and @troupe/plugin-sdk');
  }
  const parts = from.split('/');
  parts.pop();
  for (const p of spec.split('/')) { if (p === '..') parts.pop(); else if (p !== '.' && p !== '') parts.push(p); }
  const path = parts.join('/');
  for (const candidate of [path, path + '.js', path + '.json', path + '/index.js']) if (candidate in __defs) return candidate;
  throw new Error('cannot find "' + spec + '" required from ' + from);
}
function __load(path) {
  if (__cache[path]) return __cache[path].exports;
  const module = { exports: {} };
  __cache[path] = module;
  __defs[path](module, module.exports, (spec) => __load(__resolve(path, spec)));
  return module.exports;
}
let __tools = {};
function __start(main) {
  const plugin = __load(main);
  const list = plugin && Array.isArray(plugin.tools) ? plugin.tools : null;
  if (!list) throw new Error(main + ' must export definePlugin({ tools: [...] })');
  const declarations = [];
  for (const t of list) {
    if (!t || typeof t.run !== 'function') throw new Error('tool ' + JSON.stringify(t && t.name) + ' has no run function');
    __tools[t.name] = t;
    const { run, ...declaration } = t;
    declarations.push(declaration);
  }
  return JSON.stringify(declarations);
}
async function __invoke(name, argsJson, contextJson) {
  const tool = __tools[name];
  if (!tool) throw new Error('no tool ' + name);
  const context = JSON.parse(contextJson);
  context.env = Object.freeze(__env);
  context.log = (message) => __log.applyIgnored(undefined, [name, String(message)]);
  const result = await tool.run(JSON.parse(argsJson), Object.freeze(context));
  return JSON.stringify(result === undefined ? null : result);
}
`;

class PluginHost {
  private isolate?: ivm.Isolate;
  private invokeRef?: ivm.Reference<(...args: string[]) => Promise<string>>;
  private load?: LoadMessage;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly send: (message: HostMessage) => void) {}

  start(load: LoadMessage): void {
    this.load = load;
    try {
      const tools = this.boot();
      this.send({ type: 'loaded', tools });
    } catch (e) {
      this.send({ type: 'load-failed', error: message(e) });
    }
  }

  /** (Re)creates the isolate and evaluates the plugin; after an out-of-memory the isolate is gone. */
  private boot(): unknown[] {
    const load = this.load!;
    if (this.isolate && !this.isolate.isDisposed) this.isolate.dispose();
    const isolate = new ivm.Isolate({ memoryLimit: load.memoryMb });
    const context = isolate.createContextSync();
    const global = context.global;
    global.setSync('globalThis', global.derefInto());
    global.setSync('__defs', {}, { copy: true });
    global.setSync('__env', load.env, { copy: true });
    global.setSync(
      '__log',
      new ivm.Reference((tool: string, text: string) => this.send({ type: 'log', tool, message: text.slice(0, 2000) })),
    );
    const define = (path: string, body: string) =>
      isolate
        .compileScriptSync(`__defs[${JSON.stringify(path)}] = function (module, exports, require) {${body}\n};`, { filename: `plugin:${load.plugin}/${path}` })
        .runSync(context, { timeout: 1000 });
    define('@sdk', load.sdkSource);
    for (const [path, source] of Object.entries(load.files)) {
      define(path, path.endsWith('.json') ? `module.exports = ${JSON.stringify(JSON.parse(source))};` : source);
    }
    isolate.compileScriptSync(LOADER, { filename: 'plugin-loader' }).runSync(context);
    const declarations = context.evalClosureSync(`return __start($0)`, [load.main], { timeout: 2000 }) as string;
    this.invokeRef = context.global.getSync('__invoke', { reference: true }) as ivm.Reference<(...args: string[]) => Promise<string>>;
    this.isolate = isolate;
    return JSON.parse(declarations) as unknown[];
  }

  /**
   * Calls run one at a time: the isolate has one thread anyway, and this way a call that
   * times out or runs out of memory takes down only itself, never a neighbour sharing the isolate.
   */
  invoke(call: InvokeMessage): void {
    const deadline = Date.now() + call.timeoutMs;
    this.queue = this.queue.then(() => this.run(call, deadline));
  }

  private async run(call: InvokeMessage, deadline: number): Promise<void> {
    const reply = (outcome: CallOutcome) => this.send({ type: 'result', id: call.id, ...outcome });
    const timeoutMs = deadline - Date.now();
    if (timeoutMs <= 0) {
      return reply({ ok: false, code: 'TIMEOUT', error: `tool ${call.tool} did not start within ${call.timeoutMs} ms: the plugin was busy` });
    }
    if (!this.invokeRef || this.isolate?.isDisposed) {
      try {
        this.boot();
      } catch (e) {
        return reply({ ok: false, code: 'TOOL_FAILED', error: `plugin failed to restart: ${message(e)}` });
      }
    }
    const isolate = this.isolate!;
    // isolated-vm's timeout covers synchronous work; this timer also catches a promise that never
    // settles or a loop after an await, by disposing the isolate (it is rebuilt on the next call).
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (!isolate.isDisposed) isolate.dispose();
    }, timeoutMs + 50);
    try {
      const resultJson = await this.invokeRef!.apply(undefined, [call.tool, call.argsJson, JSON.stringify(call.context)], {
        timeout: timeoutMs,
        result: { promise: true, copy: true },
      });
      const size = Buffer.byteLength(resultJson);
      if (size > this.load!.maxResultBytes) {
        return reply({ ok: false, code: 'RESULT_TOO_LARGE', error: `result is ${size} bytes, limit ${this.load!.maxResultBytes}` });
      }
      reply({ ok: true, resultJson });
    } catch (e) {
      const text = message(e);
      if (timedOut || /timed out/i.test(text)) {
        reply({ ok: false, code: 'TIMEOUT', error: `tool ${call.tool} did not finish within ${call.timeoutMs} ms` });
      } else if (/memory limit/i.test(text) || isolate.isDisposed) {
        reply({ ok: false, code: 'OUT_OF_MEMORY', error: `tool ${call.tool} exceeded the plugin's ${this.load!.memoryMb} MB memory limit` });
      } else {
        reply({ ok: false, code: 'TOOL_FAILED', error: text });
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

if (require.main === module && process.send) {
  const send = (m: HostMessage) => process.send!(m);
  const host = new PluginHost(send);
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'load') host.start(m);
    else if (m.type === 'invoke') host.invoke(m);
  });
  // The parent going away ends this process; it never outlives the service.
  process.on('disconnect', () => process.exit(0));
}
