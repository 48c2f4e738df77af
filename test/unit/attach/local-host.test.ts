// The machine nfsvol runs on, used as a host (the Docker plugin mounts on its own host): the
// same contract as a host over SSH: argv without a shell, capped output, timeouts, typed errors.
import { describe, expect, it } from 'vitest';
import { LocalHost } from '../../../driver/attach/local-host.js';
import { HostCommandError, LocalCommandError } from '../../../driver/attach/ssh/errors.js';

const host = new LocalHost('this-host');

describe('LocalHost', () => {
  it('runs an argument vector without a shell: metacharacters stay text', async () => {
    const r = await host.run(['printf', '%s', '$(id); * `uname` && echo no']);
    expect(r).toEqual({ stdout: '$(id); * `uname` && echo no', stderr: '', exitCode: 0, truncated: false });
  });

  it('feeds stdin and reads both streams', async () => {
    const r = await host.run(['sh', '-c', 'cat; echo err >&2', 'sh'], { stdin: 'abc' });
    expect(r).toMatchObject({ stdout: 'abc', stderr: 'err\n', exitCode: 0 });
  });

  it('a non-zero exit is a LocalCommandError (a HostCommandError, as over SSH), or a result with check: false', async () => {
    const err = await host
      .run(['sh', '-c', 'echo "no such volume" >&2; exit 3', 'sh'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalCommandError);
    expect(err).toBeInstanceOf(HostCommandError);
    expect(err).toMatchObject({
      code: 'LOCAL_COMMAND_FAILED',
      category: 'unavailable',
      exitCode: 3,
      message: 'this-host: \'sh -c echo "no such volume" >&2; exit 3\' exited with 3: no such volume',
    });
    expect(await host.run(['sh', '-c', 'exit 3', 'sh'], { check: false })).toMatchObject({ exitCode: 3 });
  });

  it('keeps at most maxOutputBytes of output and says it cut it', async () => {
    const r = await host.run(['head', '-c', '3000000', '/dev/zero'], { maxOutputBytes: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated).toBe(true);
  });

  it('kills a command that outlives its timeout', async () => {
    const t0 = Date.now();
    await expect(host.run(['sleep', '30'], { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'LOCAL_COMMAND_TIMEOUT',
      message: "this-host: 'sleep' timed out after 200 ms",
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a program that does not exist, or a stop asked for, is an error of its own', async () => {
    await expect(host.run(['/nonexistent/mount.nfs4'])).rejects.toMatchObject({
      code: 'LOCAL_COMMAND_FAILED',
      message: expect.stringMatching(/'\/nonexistent\/mount.nfs4' could not run: .*ENOENT/) as unknown,
    });
    const stop = new AbortController();
    const running = host.run(['sleep', '30'], { signal: stop.signal });
    stop.abort();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
  });
});
