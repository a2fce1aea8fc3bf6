/**
 * Firmware quirks as data: a quirk matches a client by vendor-class prefix, MAC OUI
 * and/or reported architecture, and overrides the architecture or the boot program.
 * Each has a stable id that configuration switches on or off:
 *
 *   { "quirks": { "raspberry-pi-reports-bios": { "enabled": false } } }
 *
 * Add a quirk by adding a row (with the evidence in `source`) and a table test.
 */
import {
  architectureOf,
  architectureRow,
  type ResolvedArchitecture,
} from './architectures.js';

export interface QuirkMatch {
  /** Option 60 starts with this (case-sensitive, as firmware sends it). */
  readonly vendorClassPrefix?: string;
  /** First three MAC bytes, lower-case "2c:cf:67". */
  readonly macOui?: readonly string[];
  /** Only when the resolved architecture code is one of these. */
  readonly architectures?: readonly number[];
}

export interface Quirk {
  readonly id: string;
  readonly description: string;
  /** Where the behaviour is documented or was observed. */
  readonly source: string;
  /** Every given criterion must match. */
  readonly match: QuirkMatch;
  readonly set: { readonly architecture?: number; readonly bootProgram?: string };
  readonly enabledByDefault: boolean;
}

export type QuirkSwitches = Readonly<Record<string, { readonly enabled: boolean }>>;

/** Raspberry Pi Ltd / Foundation OUIs (IEEE registry). */
const RASPBERRY_PI_OUIS = ['b8:27:eb', 'dc:a6:32', 'e4:5f:01', '28:cd:c1', 'd8:3a:dd', '2c:cf:67'];

export const ARCHITECTURE_QUIRKS: readonly Quirk[] = [
  {
    id: 'raspberry-pi-reports-bios',
    description: 'Raspberry Pi network boot reports option 93 = 0 (x86 BIOS) although it is arm64; boot it as ARM 64-bit UEFI',
    source: 'tinkerbell/smee internal/dhcp/dhcp.go (OUI override); peers.md §3 #10 and appendix',
    match: { macOui: RASPBERRY_PI_OUIS, architectures: [0] },
    set: { architecture: 11 },
    enabledByDefault: true,
  },
];

export interface ClientFacts {
  /** Option 93 codes. */
  readonly codes?: readonly number[];
  /** Option 60. */
  readonly vendorClass?: string;
  /** Lower-case colon MAC. */
  readonly mac?: string;
}

export interface QuirkConfig {
  /** The quirk table; defaults to ARCHITECTURE_QUIRKS. */
  readonly quirks?: readonly Quirk[];
  /** Per-id switches; an id without a switch uses `enabledByDefault`. */
  readonly switches?: QuirkSwitches;
}

export const isQuirkEnabled = (q: Quirk, switches: QuirkSwitches = {}): boolean =>
  switches[q.id]?.enabled ?? q.enabledByDefault;

export function quirkMatches(q: Quirk, client: ClientFacts, resolvedCode: number): boolean {
  const m = q.match;
  if (m.vendorClassPrefix !== undefined && !(client.vendorClass ?? '').startsWith(m.vendorClassPrefix)) return false;
  if (m.macOui !== undefined) {
    const oui = (client.mac ?? '').toLowerCase().slice(0, 8);
    if (!m.macOui.includes(oui)) return false;
  }
  if (m.architectures !== undefined && !m.architectures.includes(resolvedCode)) return false;
  return m.vendorClassPrefix !== undefined || m.macOui !== undefined || m.architectures !== undefined;
}

/** Applies the first enabled quirk that matches; returns `resolved` unchanged if none does. */
export function applyQuirks(resolved: ResolvedArchitecture, client: ClientFacts, config: QuirkConfig = {}): ResolvedArchitecture {
  for (const q of config.quirks ?? ARCHITECTURE_QUIRKS) {
    if (!isQuirkEnabled(q, config.switches) || !quirkMatches(q, client, resolved.row.code)) continue;
    const row = q.set.architecture !== undefined ? architectureRow(q.set.architecture) ?? resolved.row : resolved.row;
    return {
      ...resolved,
      row,
      source: 'quirk',
      quirk: q.id,
      ...(q.set.bootProgram !== undefined ? { bootProgram: q.set.bootProgram } : {}),
    };
  }
  return resolved;
}

/** architectureOf() followed by applyQuirks(): the one call the PXE decision makes. */
export function resolveClientArchitecture(client: ClientFacts, config: QuirkConfig = {}): ResolvedArchitecture {
  return applyQuirks(architectureOf(client.codes, client.vendorClass), client, config);
}
