// Temporal's Rust core logs through this; keep it to warnings unless LOG_LEVEL=debug.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { logLevel } from '../config';

let installed = false;
export function installTemporalRuntime(level = logLevel() === 'debug' ? 'INFO' : 'WARN') {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(level as 'WARN') });
}
