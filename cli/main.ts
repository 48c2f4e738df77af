#!/usr/bin/env node
import { InterruptedError } from '../driver/index.js';
import { runCli } from './app.js';
import { EXIT } from './context.js';
import { favourFootprint } from './heap.js';
import { processIo } from './process-io.js';

favourFootprint();

// Ctrl-C (or SIGTERM): stop starting new work, let the steps in flight finish (every step is
// idempotent, so running the command again completes it), report, exit 130. A second one quits
// at once.
const interrupt = new AbortController();
const onSignal = (): void => {
  if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
  process.stderr.write('nfsvol: interrupted; finishing the steps in flight (again to quit at once)\n');
  interrupt.abort(new InterruptedError());
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), { signal: interrupt.signal, io: processIo() });
process.exitCode = code;
