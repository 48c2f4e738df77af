// vitest globalSetup for the integration project: builds the lab images once (a cache check when
// they are current) and reaps what dead runs left, before any test file starts its lab.
import { buildImages, reapOrphans } from '../../../deploy/lab/index.js';

export default async function setup(): Promise<void> {
  await buildImages('all');
  const reaped = await reapOrphans();
  if (reaped.length > 0) process.stderr.write(`[lab] reaped ${reaped.length} orphaned session(s)\n`);
}
