/**
 * Provisioning N volumes (N = 1,000 and 10,000 by default), each a directory owned by 1000:1000
 * with mode 0750, on the filesystem the NFS server exports:
 * - nfsvol: one `nfsvol volume create` process (the bundled CLI, end to end), which also writes
 *   one registry record per volume; with `--against REV`, REV's CLI too, in alternating order;
 * - what a user types by hand on the NAS, natively (an OpenSSH sshd on 127.0.0.1, not a VM):
 *   one batched `ssh nas 'mkdir -p ... && chown ... && chmod ...'`, and one
 *   `ssh nas 'mkdir -m 750 D && chown 1000:1000 D'` per volume over a reused connection
 *   (ControlMaster), for sizes up to --per-volume-max, and with `--fresh` also per volume with a
 *   full SSH handshake each;
 * - the raw rate of MKDIR through nfsvol's own client, in process, many calls in flight.
 * Every run is measured in full and checked after it (names, owner, mode; records for nfsvol).
 * The baselines work in a directory beside the export on the same filesystem, never inside it
 * (a change behind ganesha's back would leave its cache stale).
 * A separate, untimed run of the CLI through a counting relay gives the RPC calls per volume.
 * Run: npm run bench -- provision [--runs 3] [--sizes 1000,10000] [--per-volume-max 1000] [--per-volume-runs 1] [--fresh]
 *      [--against REV]
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from '../driver/common/concurrency.js';
import { NfsClient } from '../driver/nfs/index.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import { argNumber, benchArgs, benchUser, cliOk, load, names, samplesJson, type BenchUser } from './_lab.js';
import { argString, cliVariants, inTurn } from './_cli.js';
import { startLoopbackSshd, shq } from './_sshd.js';
import { callName, countingRelay } from './_rpc-count.js';

const RUNS = argNumber('runs', 3);
const SIZES = (argString('sizes') ?? '1000,10000').split(',').map(Number);
const PER_VOLUME_MAX = argNumber('per-volume-max', 1000);
const FRESH = process.argv.includes('--fresh');
const PER_VOLUME_RUNS = argNumber('per-volume-runs', 1);
const UID = 1000;
const MODE = 0o750;

await using server = await startNfsServer();
await using sshd = await startLoopbackSshd();
const baseRoot = `${server.exportDir}-baseline`;
await mkdir(baseRoot, { recursive: true });
const sameFs = (await stat(baseRoot)).dev === (await stat(server.exportDir)).dev;
if (!sameFs) throw new Error(`${baseRoot} is not on the filesystem of ${server.exportDir}`);

const variants = await cliVariants();
const users = new Map<string, BenchUser>();
for (const v of variants) {
  const u = await benchUser(v.main);
  await cliOk(u, ['init', server.url(3)]);
  users.set(v.label, u);
}
const createArgs = ['--uid', String(UID), '--gid', String(UID), '--mode', MODE.toString(8)];

/** Checks what a user would: every name is a directory with the owner and mode asked for. */
async function checkDirs(dir: string, want: readonly string[]): Promise<void> {
  const got = new Set(await readdir(dir));
  const missing = want.filter((n) => !got.has(n));
  if (missing.length)
    throw new Error(`${dir}: ${missing.length} of ${want.length} missing, e.g. ${missing[0]}`);
  await mapLimit(want, 64, async (n) => {
    const s = await stat(join(dir, n));
    if (!s.isDirectory() || (s.mode & 0o7777) !== MODE || s.uid !== UID || s.gid !== UID) {
      throw new Error(`${dir}/${n}: mode ${(s.mode & 0o7777).toString(8)} owner ${s.uid}:${s.gid}`);
    }
  });
}

/** nfsvol's volumes: the directories on the export (read only) and one record each. */
async function checkNfsvol(want: readonly string[]): Promise<void> {
  await checkDirs(server.exportDir, want);
  const records = new Set(await readdir(join(server.exportDir, '.nfsvol', 'volumes')));
  const missing = want.filter((n) => !records.has(`${n}.json`));
  if (missing.length) throw new Error(`${missing.length} records missing, e.g. ${missing[0]}`);
}

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);
const checked: string[] = [];
/** Replies the raw MKDIR run's client saw, by call (the last run of each size). */
const rawCalls: Record<number, string> = {};
const loadBefore = load();
let serial = 0;

for (const size of SIZES) {
  const perVolume = size <= PER_VOLUME_MAX;
  const contenders = [
    ...variants.map((v) => v.label),
    'batched',
    ...(perVolume ? ['per-volume-cm'] : []),
    ...(perVolume && FRESH ? ['per-volume-fresh'] : []),
    'raw-mkdir',
  ];
  for (let r = 0; r < RUNS; r++) {
    for (const who of inTurn(contenders, r)) {
      if (who.startsWith('per-volume') && r >= PER_VOLUME_RUNS) continue;
      const vols = names(`p${serial++}-`, size);
      const key = `${who} ${size}`;
      const user = users.get(who);
      if (user) {
        const res = await cliOk(user, ['volume', 'create', '--quiet', ...createArgs, ...vols]);
        add(key, res.seconds);
        add(`${key} peak RSS MiB`, res.maxRssKiB / 1024);
        await checkNfsvol(vols);
      } else if (who === 'raw-mkdir') {
        const counted = new Map<string, number>();
        await using nfs = await NfsClient.connect(server.url(3), {
          onReply: (_, c) =>
            void counted.set(
              callName(c.prog, 3, c.proc),
              (counted.get(callName(c.prog, 3, c.proc)) ?? 0) + 1,
            ),
        });
        const parent = `raw-${serial}`;
        await nfs.mkdir(parent);
        const [t] = await timed(() =>
          mapLimit(vols, 256, (n) => nfs.mkdir(`${parent}/${n}`, { mode: MODE, uid: UID, gid: UID })),
        );
        add(key, t);
        rawCalls[size] = [...counted].map(([k, v]) => `${k} ${v}`).join(', ');
        await checkDirs(join(server.exportDir, parent), vols);
      } else {
        const dir = join(baseRoot, `b${serial}`);
        await mkdir(dir);
        const [t] = await timed(async () => {
          if (who === 'batched') {
            // As typed at a bash prompt: brace expansion for the names, globs for the rest.
            const prefix = vols[0]!.slice(0, -5);
            const last = String(size - 1).padStart(5, '0');
            await sshd.ssh(
              `cd ${shq(dir)} && mkdir -p ${prefix}{00000..${last}} && chown ${UID}:${UID} * && chmod 750 *`,
            );
          } else {
            const control = who === 'per-volume-cm';
            for (const n of vols) {
              const d = shq(join(dir, n));
              await sshd.ssh(`mkdir -m 750 ${d} && chown ${UID}:${UID} ${d}`, { control });
            }
          }
        });
        add(key, t);
        await checkDirs(dir, vols);
        await rm(dir, { recursive: true });
      }
      checked.push(`${who} ${size}`);
    }
  }
  // The control connection of this size's per-volume runs: closed, so it holds nothing later.
  await sshd.closeMaster();
}

// RPC calls per volume: one untimed `volume create` through a counting relay in front of each port.
const rpcs: Record<number, { total: number; byCall: string }> = {};
{
  await using nfsRelay = await countingRelay(server.nfsPort);
  await using mountRelay = await countingRelay(server.mountPort, nfsRelay.counter);
  await using pmRelay = await countingRelay(server.rpcbindPort, nfsRelay.counter);
  const url = `nfs://127.0.0.1/export?version=3&nfsport=${nfsRelay.port}&mountport=${mountRelay.port}&rpcbindport=${pmRelay.port}`;
  const counting = await benchUser(variants[0]!.main);
  await cliOk(counting, ['init', url]);
  for (const size of SIZES) {
    nfsRelay.counter.calls.clear();
    const vols = names(`c${serial++}-`, size);
    await cliOk(counting, ['volume', 'create', '--quiet', ...createArgs, ...vols]);
    await checkNfsvol(vols);
    // The relay adds a connection's tally when it closes, just after the CLI exits (bounded wait).
    for (let i = 0; i < 50 && nfsRelay.counter.total() < size; i++)
      await new Promise((res) => setTimeout(res, 20));
    await new Promise((res) => setTimeout(res, 100));
    const byCall = [...nfsRelay.counter.calls]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    rpcs[size] = { total: nfsRelay.counter.total(), byCall };
  }
}

const rows: Row[] = [];
const fmtN = (n: number): string => n.toLocaleString('en');
const rate = (n: number, s: number): string => `${fmtN(Math.round(n / s))}/s`;
const rateLines: string[] = [];
for (const size of SIZES) {
  const ours = median(samples[`nfsvol ${size}`]!);
  const vs = (who: string, name: string): void => {
    const b = samples[`${who} ${size}`];
    if (b) rows.push({ what: `${fmtN(size)} volumes`, ours, baseline: median(b), baselineName: name });
  };
  rows.push({
    what: `${fmtN(size)} volumes, one \`nfsvol volume create\` process`,
    ours,
    ...(size === 1000 ? { target: '< 2 s', targetMet: ours < 2 } : {}),
  });
  vs('batched', "one `ssh nas 'mkdir -p v{00000..N} && chown 1000:1000 * && chmod 750 *'`");
  vs('per-volume-cm', '`ssh nas mkdir` per volume, reused connection (ControlMaster)');
  vs('per-volume-fresh', '`ssh nas mkdir` per volume, new connection each');
  for (const v of variants.slice(1)) {
    const theirs = median(samples[`${v.label} ${size}`]!);
    rows.push({
      what: `${fmtN(size)} volumes: this tree against ${v.label}`,
      ours,
      baseline: theirs,
      baselineName: v.label,
      target: 'no more than 10% slower',
      targetMet: ours <= theirs * 1.1,
    });
  }
  const raw = median(samples[`raw-mkdir ${size}`]!);
  const r = rpcs[size];
  rateLines.push(
    `${fmtN(size)}: volumes ${rate(size, ours)} (whole process) against raw MKDIR ${rate(size, raw)} (in process, connected, up to 256 calls queued, 64 in flight; replies: ${rawCalls[size]}): ${((raw / ours) * 100).toFixed(1)}% of the raw rate. ` +
      (r
        ? `RPC calls the CLI sent for ${fmtN(size)} volumes: ${fmtN(r.total)}, ${(r.total / size).toFixed(2)} per volume (${r.byCall}).`
        : ''),
  );
}
const out = table(rows);
const notRun = SIZES.filter((s) => s > PER_VOLUME_MAX);
const detail = [
  `What ran: ${RUNS} runs of every contender at each size, in turns (the order reversed on every other run), each measured in full and checked after it: ${checked.length} checks passed (every name a directory, owner ${UID}:${UID}, mode 0750; for nfsvol also one record per volume).`,
  `nfsvol: the bundled CLI as a process, end to end (start, config, NFSv3 connection to ganesha in its container over loopback, directories and records, exit). The ssh baselines: the OpenSSH client to an sshd on 127.0.0.1 running the commands natively in ${baseRoot} (same filesystem as the export, outside it).` +
    ` Per-volume ssh ran in the first ${Math.min(PER_VOLUME_RUNS, RUNS)} run(s) only (--per-volume-runs: one session per volume makes it by far the longest part)` +
    (notRun.length
      ? `, and not at ${notRun.map(fmtN).join(', ')} volumes (above --per-volume-max ${PER_VOLUME_MAX})`
      : '') +
    '; nothing was extrapolated.' +
    (FRESH ? '' : ' Per volume with a new connection each was not run (pass --fresh).'),
  `Rates and calls: ${rateLines.join(' ')}`,
  `Verdicts on medians; \`nfsvol slower\` rows are where a user does better by hand. Peak RSS of the CLI (median): ${SIZES.map((s) => `${fmtN(s)}: ${median(samples[`nfsvol ${s} peak RSS MiB`]!).toFixed(0)} MiB`).join(', ')}.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(Object.fromEntries(Object.entries(samples).filter(([k]) => !k.includes('RSS'))))}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('provision', `npm run bench -- provision${benchArgs()}`, `${out}\n\n${detail}\n`);
