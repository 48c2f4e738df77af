import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/app.js';
import { REFERENCE_FILE, renderCliReference } from '../../support/cli-reference.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const docs = ['README.md', 'deploy/README.md', ...readdirSync(`${ROOT}docs`).map((f) => `docs/${f}`)].filter(
  (f) => f.endsWith('.md'),
);
const known = new Set(COMMANDS.map((c) => c.join(' ')));
const groups = new Set(
  COMMANDS.filter((c) => COMMANDS.some((d) => d.length > 1 && d[0] === c[0])).map((c) => c[0]),
);

/** Text inside fenced blocks and inline code spans: where docs show commands. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const inline = [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
  return [...fenced, ...inline];
}

describe('the CLI reference', () => {
  it('docs/cli-reference.md is what the yargs definitions produce (run `npm run docs:cli` to update)', async () => {
    expect(readFileSync(REFERENCE_FILE, 'utf8')).toBe(await renderCliReference());
  });

  it('every command is described in the guide, docs/cli.md', () => {
    const guide = readFileSync(`${ROOT}docs/cli.md`, 'utf8');
    for (const c of COMMANDS) {
      const pattern =
        c.length === 1
          ? new RegExp(`nfsvol ${c[0]}\\b`)
          : new RegExp(`\\b${c[0]}\\b[^\\n]*\\b${c[c.length - 1]}\\b`);
      expect(guide, `docs/cli.md should mention "${c.join(' ')}"`).toMatch(pattern);
    }
  });

  it.each(docs)('every nfsvol command shown in %s exists', (file) => {
    const bad: string[] = [];
    for (const code of codeOf(readFileSync(`${ROOT}${file}`, 'utf8'))) {
      // A command line: nfsvol at the start of a line (after an optional prompt or sudo).
      for (const m of code.matchAll(
        /^[ \t]*(?:\$ |sudo )?nfsvol[ \t]+([a-z][a-z-]*)(?:[ \t]+([a-z][a-z-]*))?/gm,
      )) {
        const [, first = '', second] = m;
        const cmd = groups.has(first) && second !== undefined ? `${first} ${second}` : first;
        if (!known.has(cmd)) bad.push(m[0].trim());
      }
    }
    expect(bad).toEqual([]);
  });
});
