/**
 * Pre-caching (rule 16, "Pre-download content for this task sequence"): for
 * every offered Available deployment that asks for it, download and verify all
 * the packages it references into the target, so the later run uses them
 * (content.ts: `_SMSTSCache/` records, re-checked at use). Reports Download In
 * Progress (5), then Download Complete (6) — or stays at 5 with the reason when
 * a package could not be had: rule 16 says the deployment's normal options then
 * apply when the user installs, so a failed pre-cache is not a failed run.
 *
 * Not modelled: the Architecture/Language/Model filters of OS upgrade, image
 * and driver packages (pxepoint packages carry no such attributes): every
 * referenced package is pre-cached.
 */
import type { PolicyDeployment, PolicyResponse } from '../policy/client-api.js';
import { CLIENT_STATES } from '../site/model.js';
import type { ContentCache, DownloadSettings } from './content.js';
import type { RunLog } from './log.js';
import type { StatusReporter } from './reporter.js';

export interface PreDownloadPackage {
  packageId: string;
  ok: boolean;
  fromCache: boolean;
  message: string;
}

export interface PreDownloadResult {
  deploymentId: string;
  ok: boolean;
  packages: PreDownloadPackage[];
}

/** The deployments rule 16 pre-caches: Available, with Pre-download set. Access-directly content is used from the DP, so there is nothing to cache. */
export function preDownloadable(policy: PolicyResponse, log: RunLog): PolicyDeployment[] {
  const out: PolicyDeployment[] = [];
  for (const d of policy.offered) {
    if (d.preDownload !== true) continue;
    if (d.purpose !== 'available') {
      log.warn(`deployment ${d.deploymentId}: pre-download is for Available deployments only (rule 16); skipped`);
      continue;
    }
    if (d.deploymentOption === 'access-directly') {
      log.info(`deployment ${d.deploymentId}: access content directly: nothing to pre-cache`);
      continue;
    }
    out.push(d);
  }
  return out;
}

export async function preDownload(
  deployments: readonly PolicyDeployment[], cache: ContentCache, settings: DownloadSettings, reporter: StatusReporter, log: RunLog,
): Promise<PreDownloadResult[]> {
  const results: PreDownloadResult[] = [];
  for (const d of deployments) {
    const ids = d.packages.map((p) => p.id);
    log.info(`==== pre-download for deployment ${d.deploymentId} (${d.taskSequenceName}): ${ids.length} package(s) ${ids.join(', ')} (rule 16)`);
    await reporter.send({ deploymentId: d.deploymentId, state: CLIENT_STATES.DownloadInProgress, message: `pre-downloading ${ids.length} package(s) (rule 16)` });
    const packages: PreDownloadPackage[] = [];
    for (const pkg of d.packages) {
      const r = await cache.ensure(pkg, { ...settings, verify: true });
      packages.push(r.ok
        ? { packageId: pkg.id, ok: true, fromCache: r.fromCache, message: `${r.files} file(s), ${r.bytes} bytes verified in ${r.dir}` }
        : { packageId: pkg.id, ok: false, fromCache: false, message: r.message });
      (r.ok ? log.info : log.warn).call(log, `pre-download ${pkg.id}: ${packages.at(-1)!.message}`);
    }
    const ok = packages.every((p) => p.ok);
    const failed = packages.filter((p) => !p.ok);
    await reporter.send(ok
      ? { deploymentId: d.deploymentId, state: CLIENT_STATES.DownloadComplete, message: `pre-download complete: ${ids.length} package(s) verified and cached (rule 16)` }
      : { deploymentId: d.deploymentId, state: CLIENT_STATES.DownloadInProgress, message: `pre-download incomplete: ${failed.map((p) => p.message).join('; ')}; the deployment's own options apply when it runs (rule 16)` });
    results.push({ deploymentId: d.deploymentId, ok, packages });
  }
  return results;
}
