/**
 * Normalising machine identifiers so every room compares the same strings.
 * MAC: lower-case, colon-separated ("52:54:00:77:00:10"); accepts '-', '.', no separator.
 * SMBIOS GUID: lower-case canonical 8-4-4-4-12.
 */
import { invalid } from '../errors.js';

const MAC_HEX = /^[0-9a-f]{12}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Returns the normalised MAC, or null if `text` is not a 48-bit MAC. */
export function parseMac(text: string): string | null {
  const hex = text.trim().toLowerCase().replace(/[:\-.]/g, '');
  if (!MAC_HEX.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

export function normaliseMac(text: string, field = 'mac'): string {
  const mac = parseMac(text);
  if (mac === null) throw invalid(field, `"${text}" is not a MAC address; write it like 52:54:00:77:00:10`);
  return mac;
}

/** Returns the normalised GUID (braces allowed), or null. */
export function parseGuid(text: string): string | null {
  const g = text.trim().toLowerCase().replace(/^\{|\}$/g, '');
  return GUID.test(g) ? g : null;
}

export function normaliseGuid(text: string, field = 'smbiosGuid'): string {
  const g = parseGuid(text);
  if (g === null) throw invalid(field, `"${text}" is not an SMBIOS GUID; write it like 4b1d0000-7777-4000-8000-000000000010`);
  return g;
}
