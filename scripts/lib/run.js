// Runs a command with inherited output; rejects with its exit code.
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      ...options,
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(Object.assign(new Error(`${command} ${args.join(' ')} failed (${signal ?? code})`), { code })),
    );
  });
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);

module.exports = { run, bin, root };
