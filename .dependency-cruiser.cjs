/**
 * The layer rules of docs/architecture.md, checked by `npm run lint:deps` (part of `npm run
 * lint`). Lower layers never import higher ones:
 *   common -> nfs -> core -> attach -> cluster -> driver/index.ts -> cli, deploy
 * Type-only imports count: a type is a dependency too.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one; untangle it by moving what both need lower.',
      from: { path: '^(driver|cli|deploy)/' },
      to: { circular: true },
    },
    {
      name: 'common-is-the-bottom',
      severity: 'error',
      comment: 'driver/common (errors, concurrency, debug, events) imports nothing of nfsvol.',
      from: { path: '^driver/common/' },
      to: { path: '^(driver/(?!common/)|cli/|deploy/)' },
    },
    {
      name: 'nfs-knows-nothing-above-it',
      severity: 'error',
      comment: 'The NFS client is a protocol library: it knows no registry, SSH or Docker.',
      from: { path: '^driver/nfs/' },
      to: { path: '^(driver/(?!nfs/|common/)|cli/|deploy/)' },
    },
    {
      name: 'core-has-no-ssh-or-docker',
      severity: 'error',
      comment: 'driver/core (names, records, registry) works on the export alone.',
      from: { path: '^driver/core/' },
      to: { path: '^(driver/(attach|cluster)/|driver/index\\.ts$|cli/|deploy/)' },
    },
    {
      name: 'attach-below-cluster',
      severity: 'error',
      comment: 'driver/attach (SSH, Docker, hosts, reconcile, mounts) is used by cluster, not the reverse.',
      from: { path: '^driver/attach/' },
      to: { path: '^(driver/cluster/|driver/index\\.ts$|cli/|deploy/)' },
    },
    {
      name: 'driver-knows-no-front-end',
      severity: 'error',
      from: { path: '^driver/' },
      to: { path: '^(cli|deploy|test|bench)/' },
    },
    {
      name: 'cli-uses-the-public-api',
      severity: 'error',
      comment: 'The CLI imports the package entry (driver/index.ts) only: what it needs is public API.',
      from: { path: '^cli/' },
      to: { path: '^driver/(?!index\\.ts$)' },
    },
    {
      name: 'lab-uses-the-public-api',
      severity: 'error',
      comment:
        'The lab imports the package entry and the shared utilities of driver/common. Its RPC probe ' +
        'speaks portmap and NULL calls to a server it starts, with wire-level pieces no user calls.',
      from: { path: '^deploy/', pathNot: '^deploy/lab/rpc-probe\\.ts$' },
      to: { path: '^driver/(?!index\\.ts$|common/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
