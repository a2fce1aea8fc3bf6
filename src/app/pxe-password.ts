/**
 * Setting and clearing the PXE password (rules 47, 73) for the CLI
 * (`pxepoint settings pxe-password`) and the admin API (PUT/DELETE
 * /api/settings/pxe-password): derive the key once, store only the key
 * (pxe/pxe-password.ts), and write an audit message that holds no secret.
 */
import { publish } from '../events.js';
import type { ScryptParams } from '../media/types.js';
import { checkPxePassword, derivePxeKey, readPxePasswordKey, removePxePasswordKey, writePxePasswordKey } from '../pxe/pxe-password.js';
import type { SiteRepository } from '../site/repository.js';
import type { Actor } from './site-service.js';

export interface PxePasswordStatus {
  passwordSet: boolean;
  /** The scrypt cost of the stored key (never the salt or key). */
  kdf?: { name: 'scrypt'; N: number; r: number; p: number };
  /** The key file exists but cannot be used: variables files are refused until the password is set again. */
  problem?: string;
}

export function pxePasswordStatus(dataDir: string): PxePasswordStatus {
  const s = readPxePasswordKey(dataDir);
  if (s.state === 'unset') return { passwordSet: false };
  if (s.state === 'broken') return { passwordSet: true, problem: s.reason };
  return { passwordSet: true, kdf: { name: 'scrypt', ...s.derived.params } };
}

async function audit(repo: SiteRepository, actor: Actor, text: string, data: Record<string, unknown>): Promise<void> {
  await repo.statusMessages.append({
    time: new Date().toISOString(), kind: 'audit', severity: 'info', component: actor.component, messageId: 0, actor: actor.name,
    text, deviceId: null, deploymentId: null, data,
  });
  publish('site.change', { actor: actor.name, text, ...data });
}

/** Sets (or replaces) the PXE password. `scrypt` is for tests; the default is DEFAULT_SCRYPT. */
export async function setPxePassword(repo: SiteRepository, dataDir: string, password: string, actor: Actor, opts: { scrypt?: ScryptParams } = {}): Promise<PxePasswordStatus> {
  checkPxePassword(password);
  const replaced = readPxePasswordKey(dataDir).state !== 'unset';
  const derived = await derivePxeKey(password, opts.scrypt);
  try {
    writePxePasswordKey(dataDir, derived);
  } finally {
    derived.key.fill(0);
  }
  await audit(repo, actor, replaced ? 'changed the PXE password' : 'set the PXE password',
    { action: 'update', entity: 'settings', setting: 'pxe-password', passwordSet: true });
  return pxePasswordStatus(dataDir);
}

/** Clears the PXE password: variables files are served in the clear again. */
export async function clearPxePassword(repo: SiteRepository, dataDir: string, actor: Actor): Promise<PxePasswordStatus & { cleared: boolean }> {
  const cleared = removePxePasswordKey(dataDir);
  if (cleared) await audit(repo, actor, 'cleared the PXE password', { action: 'update', entity: 'settings', setting: 'pxe-password', passwordSet: false });
  return { passwordSet: false, cleared };
}
