#!/usr/bin/env node
// Some registry mirrors lack a few platform-specific optional packages (e.g. the darwin and
// win32 builds of @bufbuild/buf and msgpackr-extract). `npm install` then leaves them out of
// package-lock.json and `npm ci` refuses the lock as out of sync. This adds lock entries for
// such optional packages, marked with their os/cpu, so npm ci skips them on other platforms
// and fetches them by version on theirs. Run after `npm install` changes the lock.
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.resolve(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const PLATFORM = /-(darwin|linux|win32|freebsd|android|openbsd|sunos|aix)-(x64|arm64|aarch64|armv7|arm|ia32|x32|ppc64|s390x|riscv64|loong64|mips64el)(-gnu|-musl|-msvc|-gnueabihf)?$/;
const CPU = { aarch64: 'arm64', armv7: 'arm' };

let added = 0;
for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `${location ? location + '/' : ''}node_modules/${name}`.replace(/^.*?node_modules\/(?=.*node_modules\/)/, '');
    const hoisted = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[hoisted]) continue;
    const match = PLATFORM.exec(name);
    if (!match) continue;
    lock.packages[hoisted] = {
      version: String(range).replace(/^[\^~=]/, ''),
      cpu: [CPU[match[2]] ?? match[2]],
      optional: true,
      os: [match[1]],
    };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} optional platform entries`);
