/**
 * The CLI reference (docs/cli-reference.md) is generated from the yargs definitions, so it
 * cannot drift from the code: `npm run docs:cli` writes it, and a unit test fails when the file
 * differs from what the definitions produce.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMANDS, runCli } from '../../cli/app.js';

export const REFERENCE_FILE = fileURLToPath(new URL('../../docs/cli-reference.md', import.meta.url));

export async function helpOf(path: readonly string[]): Promise<string> {
  let out = '';
  await runCli([...path, '--help'], {
    io: { stdout: (t) => (out += t), stderr: () => undefined, env: {} },
    width: 100,
  });
  return out.trimEnd();
}

export async function renderCliReference(): Promise<string> {
  const parts = [
    '# nfsvol CLI reference',
    '',
    'Generated from the yargs definitions by `npm run docs:cli`; a unit test keeps it in step with the',
    'code. The guide to the commands is [cli.md](cli.md).',
    '',
    '## nfsvol',
    '',
    '```text',
    await helpOf([]),
    '```',
  ];
  for (const path of COMMANDS) {
    parts.push('', `## nfsvol ${path.join(' ')}`, '', '```text', await helpOf(path), '```');
  }
  return `${parts.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(REFERENCE_FILE, await renderCliReference());
  console.log(`wrote ${REFERENCE_FILE}`);
}
