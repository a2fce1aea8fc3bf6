/**
 * PXE responder settings (ConfigMgr's PXE tab, rules 44–56) with their defaults,
 * and the normalisation the decision relies on: the MAC ignore list and the
 * duplicate-identifier list hold normalised identifiers, so a lookup is one
 * `Set.has` on the normalised MAC/GUID of the request.
 */
import { invalid } from '../errors.js';
import { parseGuid, parseMac } from '../site/identifiers.js';
import type { PxeSettings } from './types.js';

export const DEFAULT_PXE_SETTINGS: PxeSettings = {
  respond: true,
  unknownComputerSupport: false, // ConfigMgr's checkbox is off until an administrator ticks it (rule 46)
  macIgnoreList: new Set(),
  duplicateIdentifiers: new Set(),
  whenNothingApplies: 'ignore', // SMSPXE "Not serviced" (docs/decisions/0008-pxe-decision.md)
  interfaces: [],
  responseDelaySeconds: 0, // rule 50: respond immediately by default
  passwordSet: false,
  bootPrograms: {},
};

export interface PxeSettingsInput extends Partial<Omit<PxeSettings, 'macIgnoreList' | 'duplicateIdentifiers'>> {
  macIgnoreList?: Iterable<string>;
  duplicateIdentifiers?: Iterable<string>;
}

/** Normalises one identifier of the duplicate list: a MAC or an SMBIOS GUID. */
export function normaliseIdentifier(text: string): string | null {
  return parseMac(text) ?? parseGuid(text);
}

/**
 * Settings from configuration: defaults filled in, identifiers normalised.
 * Throws PXE_ERR_INVALID naming the bad entry (a typo in the ignore list must not
 * silently let a machine boot, rule 55).
 */
export function pxeSettings(input: PxeSettingsInput = {}): PxeSettings {
  const macs = new Set<string>();
  for (const [i, text] of [...(input.macIgnoreList ?? [])].entries()) {
    const mac = parseMac(text);
    if (mac === null) throw invalid(`pxe.macIgnoreList.${i}`, `"${text}" is not a MAC address; write it like 01:23:45:67:89:ab (rule 55)`);
    macs.add(mac);
  }
  const duplicates = new Set<string>();
  for (const [i, text] of [...(input.duplicateIdentifiers ?? [])].entries()) {
    const id = normaliseIdentifier(text);
    if (id === null) throw invalid(`pxe.duplicateIdentifiers.${i}`, `"${text}" is neither a MAC address nor an SMBIOS GUID (rule 56)`);
    duplicates.add(id);
  }
  const delay = input.responseDelaySeconds ?? DEFAULT_PXE_SETTINGS.responseDelaySeconds;
  if (!Number.isFinite(delay) || delay < 0 || delay > 32) {
    throw invalid('pxe.responseDelaySeconds', 'must be between 0 and 32 seconds (rule 50; firmware gives up after about 4 retries)');
  }
  return {
    ...DEFAULT_PXE_SETTINGS,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    macIgnoreList: macs,
    duplicateIdentifiers: duplicates,
    responseDelaySeconds: delay,
  } as PxeSettings;
}
