/**
 * decidePxeBoot: what a PXE-booting machine gets. Pure: the request comes from
 * the packet (request.ts), the site from the policy snapshot, the settings from
 * configuration; no socket, clock or disk. Explained for administrators in
 * docs/pxe.md; the readings chosen are in docs/decisions/0008-pxe-decision.md.
 *
 * Order (the first step that stops decides the reason):
 *   1. responder switched off (rule 45)              → ignore  responder-off
 *   2. interface not served (rule 49)                → ignore  interface-not-served
 *   3. MAC on the exclusion list (rule 55)           → ignore  mac-ignored ("never boots, no matter what")
 *   4. identify by MAC or SMBIOS GUID, the duplicate
 *      list removed from matching (rules 56, 59)     → ignore  ambiguous-identity
 *   5. unknown machine, unknown support off (46)     → ignore  unknown-not-supported
 *   6. architecture we have nothing for (79)         → ignore  unsupported-architecture
 *   7. deployments PXE may offer: policy/select with
 *      bootSource 'pxe' (rules 19, 40, 60, 61)       → nothing: required-already-ran | no-deployment
 *   8. boot image (rules 75, 78, 79)                 → nothing: no-boot-image
 *   9. a required one not yet delivered (67)         → boot (no prompt)
 *      only available ones (68)                      → boot-with-prompt (F12 / Enter)
 * "nothing" answers per `whenNothingApplies` (rule 71, open question 4): ignore
 * (SMSPXE "Not serviced") or abort (boot the next device now).
 *
 * The boot file (rule 70's NBP role, played by iPXE):
 *   - firmware PXE → the architecture's boot program over TFTP (the iPXE chain loader);
 *   - iPXE → the HTTP path of this machine's script, never the boot program again
 *     (that is the classic chain loop, peers.md §3 #5);
 *   - UEFI HTTP Boot → an HTTP path to the boot program.
 * 'abort' hands out the same chain; the machine's script then says why and
 * `exit`s to the next boot device, which is what abortpxe.com does.
 */
import { selectPolicy } from '../policy/select.js';
import type { OfferedDeployment, PolicyDecision } from '../policy/types.js';
import { parseMac } from '../site/identifiers.js';
import type { Architecture, Device } from '../site/model.js';
import { bootImageArchitectures, bootProgramFor, type ArchitectureRow } from './architectures.js';
import { chooseBootImage } from './boot-image.js';
import { identifyMachine, type Identification } from './identify.js';
import type { PxeBootRequest, PxeDecision, PxeDecisionContext, PxeSettings } from './types.js';

/** "52:54:00:77:00:10" → "52-54-00-77-00-10": the form used in boot file names and URLs. */
export const macWithDashes = (mac: string): string => mac.replace(/:/g, '-');

/** HTTP path of a machine's iPXE script (served by http/boot). */
export const ipxeScriptPath = (mac: string): string => `/boot/${macWithDashes(mac)}.ipxe`;

/** HTTP path of a file of the boot files root (served by http/boot under /boot/files/). */
export const bootFilePath = (relative: string): string => `/boot/files/${relative.replace(/^\/+/, '')}`;

type Identity = Pick<PxeDecision, 'deviceId' | 'unknownObjectId' | 'matchedBy' | 'machineArchitecture'>;

const NO_IDENTITY: Identity = { deviceId: null, unknownObjectId: null, matchedBy: null, machineArchitecture: null };

function decision(action: PxeDecision['action'], reasonCode: PxeDecision['reasonCode'], reason: string, identity: Identity, more: Partial<PxeDecision> = {}): PxeDecision {
  return {
    action, reasonCode, reason, ...identity,
    deploymentId: null, bootImageId: null, bootImageArchitecture: null, bootFile: null, http: false,
    bootImageDeploymentId: null, bootImagePath: null, deploymentIds: [],
    ...more,
  };
}

/** Where the client fetches its next stage from. */
export function bootFileFor(req: PxeBootRequest, settings: Pick<PxeSettings, 'bootPrograms'>): { bootFile: string; http: boolean } | null {
  if (req.isIpxe) return { bootFile: ipxeScriptPath(req.mac), http: true };
  const program = bootProgramFor(req.architecture, settings.bootPrograms);
  if (program === undefined) return null;
  return req.isHttpBoot ? { bootFile: bootFilePath(program), http: true } : { bootFile: program, http: false };
}

/** Rule 62: the hardware's capability picks the unknown object; BIOS reports no CPU width (rule 79). */
function hardwareArchitecture(row: ArchitectureRow, x64Capable: boolean | undefined): Architecture {
  if (row.cpu === 'arm64') return 'arm64';
  if (row.cpu === 'x86') return row.firmware === 'bios' && x64Capable === true ? 'x64' : 'x86';
  return 'x64';
}

function describe(id: Identification, device: Device | null, unknownObjectId: string | null, snapshot: PxeDecisionContext['snapshot']): string {
  if (id.kind === 'device' && device !== null) {
    return `device ${device.name} (${device.id}) is in the database (matched by ${id.matchedBy.replace('+', ' and ')})`;
  }
  const obj = unknownObjectId === null ? undefined : snapshot.devices.get(unknownObjectId);
  return `device is not in the database; using ${obj?.name ?? 'the unknown computer object'} (${unknownObjectId ?? '?'})`;
}

/** The deployments left out and why, for the reason text (the first 10; a reason is a log line, not a report). */
function exclusionSummary(policy: PolicyDecision): string {
  const { excluded } = policy;
  if (excluded.length === 0) return '';
  const shown = excluded.slice(0, 10).map((e) => `${e.deploymentId} ${e.reason}`).join(', ');
  return ` (left out: ${shown}${excluded.length > 10 ? `, and ${excluded.length - 10} more` : ''})`;
}

/** The required deployment that boots with no prompt: SMSTSPreferredAdvertID's if required, else the highest id (rule 78 ordering). */
function requiredOf(policy: PolicyDecision): OfferedDeployment | null {
  if (policy.autoRun?.purpose === 'required') return policy.autoRun;
  let best: OfferedDeployment | null = null;
  for (const o of policy.offered) {
    if (o.purpose === 'required' && o.due && (best === null || o.deploymentId > best.deploymentId)) best = o;
  }
  return best;
}

export function decidePxeBoot(req: PxeBootRequest, ctx: PxeDecisionContext): PxeDecision {
  const { settings, snapshot } = ctx;
  if (!settings.respond) {
    return decision('ignore', 'responder-off', 'the PXE responder is switched off ("Allow this distribution point to respond to incoming PXE requests", rule 45): not serviced', NO_IDENTITY);
  }
  if (settings.interfaces.length > 0 && req.interface !== null && !settings.interfaces.includes(req.interface)) {
    return decision('ignore', 'interface-not-served', `request arrived on ${req.interface}, which is not among the interfaces the responder answers on (${settings.interfaces.join(', ')}; rule 49): not serviced`, NO_IDENTITY);
  }
  const mac = parseMac(req.mac) ?? req.mac.toLowerCase();
  if (settings.macIgnoreList.has(mac)) {
    return decision('ignore', 'mac-ignored', `${mac} is on the MAC exclusion list: never boots, no matter what (rule 55)`, NO_IDENTITY);
  }

  const id = identifyMachine(mac, req.smbiosGuid, snapshot, settings.duplicateIdentifiers);
  if (id.kind === 'ambiguous') {
    return decision('ignore', 'ambiguous-identity',
      `MAC ${mac}${req.smbiosGuid ? ` and SMBIOS GUID ${req.smbiosGuid}` : ''} match different records (${id.deviceIds.join(', ')}): fix the records, or add the shared identifier to the duplicate hardware identifier list (rule 56). Not serviced`,
      NO_IDENTITY);
  }
  const device = id.kind === 'device' ? id.device : null;
  if (device === null && !settings.unknownComputerSupport) {
    return decision('ignore', 'unknown-not-supported', `device ${mac} is not in the database and unknown computer support is off (rule 46): not serviced`, NO_IDENTITY);
  }

  const row = req.architecture.row;
  // A known record says what the hardware can run ("highest architecture"): a BIOS client's CPU width (rule 79).
  const x64Capable = req.x64Capable ?? (device !== null ? device.architecture === 'x64' : undefined);
  const machineArchitecture = device?.architecture ?? hardwareArchitecture(row, x64Capable);
  const policy = selectPolicy({
    device, architecture: machineArchitecture, bootSource: 'pxe', clientVariables: [],
    now: ctx.now, clientUtcOffsetMinutes: 0, event: null,
  }, snapshot);
  const identity: Identity = {
    deviceId: device?.id ?? null,
    unknownObjectId: policy.unknownObjectId,
    matchedBy: id.kind === 'device' ? id.matchedBy : null,
    machineArchitecture,
  };
  const who = describe(id, device, policy.unknownObjectId, snapshot);

  const accepted = bootImageArchitectures(row, x64Capable);
  const file = bootFileFor({ ...req, mac }, settings);
  if (accepted.length === 0 || file === null) {
    return decision('ignore', 'unsupported-architecture',
      `${who}; client architecture ${row.code} (${row.name}, from ${req.architecture.source}) has no ${file === null ? 'boot program' : 'boot image architecture'} pxepoint serves: not serviced`,
      identity);
  }

  const candidates: OfferedDeployment[] = [...policy.offered];
  if (policy.autoRun !== null && !candidates.some((o) => o.deploymentId === policy.autoRun!.deploymentId)) candidates.push(policy.autoRun);
  const deploymentIds = candidates.map((o) => o.deploymentId);

  const nothing = (reasonCode: PxeDecision['reasonCode'], why: string, more: Partial<PxeDecision> = {}): PxeDecision => {
    const abort = settings.whenNothingApplies === 'abort';
    return decision(settings.whenNothingApplies, reasonCode,
      `${who}; ${why}. ${abort ? 'PXE boot aborted: booting to next device' : 'No boot action. Not serviced'}`,
      identity, { deploymentIds, ...more, ...(abort ? file : {}) });
  };

  if (candidates.length === 0) {
    const delivered = policy.excluded.filter((e) => e.reason === 'pxe-already-delivered').map((e) => e.deploymentId);
    if (delivered.length > 0) {
      return nothing('required-already-ran',
        `required deployment ${delivered.join(', ')} was already delivered over PXE and nothing is available (rule 40: "Clear Required PXE Deployments" runs it again)${exclusionSummary(policy)}`);
    }
    return nothing('no-deployment', `no advertisements found${exclusionSummary(policy)}`);
  }

  const choice = chooseBootImage(candidates, accepted, snapshot);
  if (!choice.ok) return nothing('no-boot-image', choice.message);

  const required = requiredOf(policy);
  const chosen = {
    bootImageId: choice.bootImage.id,
    bootImageArchitecture: choice.bootImage.architecture,
    bootImageDeploymentId: choice.deploymentId,
    bootImagePath: choice.bootImage.imagePath,
    deploymentIds,
    ...file,
  };
  const image = `boot image ${choice.bootImage.id} (${choice.bootImage.architecture}${choice.exact ? '' : ', compatible'}, from ${choice.deploymentId})`;
  if (required !== null) {
    return decision('boot', 'required', `${who}; found mandatory advertisement ${required.deploymentId}: boots with no prompt (rule 67); ${image}`, identity,
      { ...chosen, deploymentId: required.deploymentId });
  }
  return decision('boot-with-prompt', 'available',
    `${who}; found optional advertisement ${choice.deploymentId}: boots only if the user presses ${row.firmware === 'uefi' ? 'Enter' : 'F12'} (rule 68); ${image}`,
    identity, { ...chosen, deploymentId: choice.deploymentId });
}
