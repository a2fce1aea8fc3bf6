/**
 * The contract between the DHCP listeners (dhcp/), the pure PXE decision
 * (pxe/decide) and the boot files served over TFTP and HTTP (pxe/boot-files,
 * http/boot). The listener parses a packet into a `PxeBootRequest`, asks
 * `decidePxeBoot(request, context)` what this machine gets, and encodes the
 * answer; nothing in pxe/ touches a socket, a clock or the disk.
 *
 * Rule numbers refer to ../shared/spec/configmgr-rules.md (§5, §6).
 */
import type { Architecture } from '../site/model.js';
import type { ResolvedArchitecture } from './architectures.js';
import type { PolicySnapshot } from '../policy/types.js';

/** Where the request came in. */
export type PxeChannel =
  | 'dhcp'        // full DHCP mode, port 67 (DISCOVER/REQUEST)
  | 'proxy'       // ProxyDHCP on port 67 (answer PXE clients without an address)
  | 'boot-server'; // PXE boot-server discovery on port 4011

export interface PxeBootRequest {
  /** Normalised MAC (chaddr). */
  mac: string;
  /** From option 97 (first three fields little-endian on the wire), or null / all-zero → null. */
  smbiosGuid: string | null;
  /** Option 93 (+ vendor-class fallback, quirks applied). */
  architecture: ResolvedArchitecture;
  /** Option 60 as sent ("PXEClient:Arch:00007:UNDI:003000", "HTTPClient:…"). */
  vendorClass: string | null;
  /** Option 77 "iPXE" (raw or RFC 3004) or option 175 present: chain to HTTP, never TFTP again. */
  isIpxe: boolean;
  /** Option 60 starts with "HTTPClient": UEFI HTTP Boot wants a URL. */
  isHttpBoot: boolean;
  channel: PxeChannel;
  /** Interface the request arrived on, when known (null: not bound per interface). */
  interface: string | null;
  /** giaddr when relayed, else null. Option 82 sub-options, hex, when present. */
  relay: { giaddr: string; circuitId: string | null; remoteId: string | null } | null;
  /** The client's address if it has one (ciaddr, or the address we lease in full mode). */
  clientIp: string | null;
  /** x64-capable hint for BIOS clients (e.g. iPXE's cpuid), when known (rule 79). */
  x64Capable?: boolean;
}

/** Responder settings the decision reads (ConfigMgr's PXE tab, rules 44–56). */
export interface PxeSettings {
  /** "Allow this distribution point to respond to incoming PXE requests" (rule 45). */
  respond: boolean;
  /** "Enable unknown computer support" (rule 46). */
  unknownComputerSupport: boolean;
  /** MAC exclusion list (rule 55): never boots, no matter what. Normalised MACs (see pxe/settings.ts). */
  macIgnoreList: ReadonlySet<string>;
  /** Duplicate hardware identifiers (rule 56): MACs/GUIDs removed from matching only. Normalised. */
  duplicateIdentifiers: ReadonlySet<string>;
  /** What to do when nothing applies (rule 71, open question 4): stay silent or send the abort program. */
  whenNothingApplies: 'ignore' | 'abort';
  /**
   * Answer only on these interfaces (rule 49); empty = all. Kernel names, as the listener
   * puts them in `PxeBootRequest.interface`: resolve configured MACs to names first
   * (dhcp/interfaces.ts `resolveInterfaces`). A request whose interface is unknown (null)
   * is not refused here: the listener that cannot tell interfaces apart binds them.
   */
  interfaces: readonly string[];
  /** Seconds to wait before answering (rule 50); 0 = at once. */
  responseDelaySeconds: number;
  /** PXE password (rule 47/73): checked on the WinPE welcome page by the client, carried in the variables file. */
  passwordSet: boolean;
  /** Boot program overrides per option-93 code. */
  bootPrograms: Readonly<Record<number, string>>;
}

export type PxeAction =
  /** Not serviced: no answer at all (SMSPXE "Not serviced"). */
  | 'ignore'
  /** Answer with the abort program: boot the next device now (abortpxe.com). */
  | 'abort'
  /** Boot, showing a prompt first (available deployments: F12 / Enter, rule 68). */
  | 'boot-with-prompt'
  /** Boot with no prompt (a required deployment not yet run, rule 67). */
  | 'boot';

export interface PxeDecision {
  action: PxeAction;
  /** Human-readable reason, in SMSPXE's spirit ("device is in the database", "no advertisements found"). */
  reason: string;
  /** Stable machine-readable reason code for tests and metrics. */
  reasonCode:
    | 'responder-off' | 'mac-ignored' | 'unknown-not-supported' | 'no-deployment' | 'required-already-ran'
    | 'no-boot-image' | 'unsupported-architecture' | 'required' | 'available' | 'interface-not-served'
    /** MAC and SMBIOS GUID lead to different records (fix the records, or list the shared identifier, rule 56). */
    | 'ambiguous-identity';
  deviceId: string | null;
  unknownObjectId: string | null;
  /** The deployment that decided (rule 72 OfferID), if any. */
  deploymentId: string | null;
  /** Rule 78/79: chosen boot image and its architecture. */
  bootImageId: string | null;
  bootImageArchitecture: Architecture | null;
  /**
   * What to put in the reply: a TFTP path for firmware PXE (the NBP: iPXE for the
   * chain), or an HTTP URL path for iPXE and HTTP Boot clients
   * (e.g. "/boot/52-54-00-77-00-10.ipxe"); null for 'ignore'.
   */
  bootFile: string | null;
  /** True when bootFile is an HTTP path (iPXE chain or UEFI HTTP Boot). */
  http: boolean;
  // --- Additive detail (pxe/decide.ts always sets these; other producers may omit them) ---
  /** How the record was found (rule 59); null for unknown machines or before identification. */
  matchedBy?: 'mac' | 'smbios-guid' | 'mac+smbios-guid' | null;
  /** The deployment whose task sequence supplied the boot image (rule 78); may differ from deploymentId. */
  bootImageDeploymentId?: string | null;
  /** Boot image file relative to the boot files root (BootImage.imagePath). */
  bootImagePath?: string | null;
  /** Every deployment PXE may offer this machine (rule 72 candidates), display order. */
  deploymentIds?: string[];
  /** What the hardware runs (rule 62): the record's architecture, else what the request tells; null before identification. */
  machineArchitecture?: Architecture | null;
}

export interface PxeDecisionContext {
  /** The site: devices, deployments, task sequences and boot images (rules 59–61, 75, 78/79). */
  snapshot: PolicySnapshot;
  settings: PxeSettings;
  /** Handed to the policy; WinPE/PXE evaluates no schedule (rule 28), so it never changes the answer. */
  now: Date;
}
