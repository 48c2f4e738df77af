import type { Argv, CommandModule } from 'yargs';
import type { CommandRun, GlobalArgs } from '../context.js';

interface CompletionArgs extends GlobalArgs {
  shell?: string | undefined;
}

/**
 * The hidden command yargs answers completions on: the scripts below run
 * `nfsvol --get-yargs-completions WORDS...` and yargs prints the candidates (commands, options,
 * choices) from the same definitions as --help. SHELL tells yargs which form to print: zsh's
 * `name:description`, or bash's bare words.
 */
export const COMPLETION_HOOK = '__complete';

const bash = `###-begin-nfsvol-completions-###
# nfsvol completion for bash. Load it from ~/.bashrc:
#   eval "$(nfsvol completion bash)"
# or save it system-wide: nfsvol completion bash > /etc/bash_completion.d/nfsvol
_nfsvol_completions() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n'
  local words
  words=$(SHELL=bash nfsvol --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
# Nothing offered (a file for --from, --identity...): bash completes file names.
complete -o bashdefault -o default -F _nfsvol_completions nfsvol
###-end-nfsvol-completions-###
`;

const zsh = `#compdef nfsvol
###-begin-nfsvol-completions-###
# nfsvol completion for zsh. Load it from ~/.zshrc (after compinit):
#   eval "$(nfsvol completion zsh)"
# or save it as _nfsvol in a directory of $fpath.
_nfsvol() {
  local -a reply
  local IFS=$'\\n'
  reply=($(SHELL=zsh nfsvol --get-yargs-completions "\${words[@]:0:$CURRENT}" 2>/dev/null))
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _nfsvol "$@"
else
  compdef _nfsvol nfsvol
fi
###-end-nfsvol-completions-###
`;

export const COMPLETION_SCRIPTS: Readonly<Record<'bash' | 'zsh', string>> = { bash, zsh };

export function completionCommand(
  run: (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>,
): CommandModule<GlobalArgs, CompletionArgs> {
  return {
    command: 'completion [shell]',
    describe: 'Print a shell completion script (bash or zsh) for commands, options and choices',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('shell', {
          type: 'string',
          choices: ['bash', 'zsh'],
          describe: 'the shell (default: the one $SHELL names)',
        })
        .example('eval "$($0 completion bash)"', 'in ~/.bashrc')
        .example('eval "$($0 completion zsh)"', 'in ~/.zshrc, after compinit')
        .example('$0 completion zsh > "${fpath[1]}/_nfsvol"', 'or installed for zsh') as Argv<CompletionArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        const shell = argv.shell ?? (/zsh$/.test(r.deps.io.env['SHELL'] ?? '') ? 'zsh' : 'bash');
        r.deps.io.stdout(COMPLETION_SCRIPTS[shell === 'zsh' ? 'zsh' : 'bash']);
      }),
  };
}
