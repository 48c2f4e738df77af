#!/usr/bin/env node
import { runCli } from './app.js';

const code = await runCli(process.argv.slice(2), {
  io: {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  },
});
process.exitCode = code;
