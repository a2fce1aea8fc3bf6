import { describe, expect, it } from 'vitest';
import { offeredAvailableTo, offeredDeploymentOptions } from '../../src/deploy/options.js';
import type { AvailableTo, DeploymentOption, Package } from '../../src/site/model.js';
import { AVAILABLE_TO } from '../../src/site/model.js';
import { osTaskSequence, pkg, scriptTaskSequence, sharedPkg } from './factories.js';

describe('rule 11: offeredAvailableTo', () => {
  it('offers only clients-only without a boot image (docs example 3)', () => {
    expect(offeredAvailableTo(scriptTaskSequence())).toEqual(['clients-only']);
  });
  it('offers all four values with a boot image (rule 18)', () => {
    expect(offeredAvailableTo(osTaskSequence())).toEqual([...AVAILABLE_TO]);
  });
});

describe('rules 9 and 10: offeredDeploymentOptions (docs examples 1–3)', () => {
  const unshared = [pkg('A'), sharedPkg('B')];
  const shared = [sharedPkg('A'), sharedPkg('B')];
  const rows: Array<[string, AvailableTo, Package[], DeploymentOption[]]> = [
    ['example 1: media/PXE, not all shared', 'clients-media-pxe', unshared, ['download-when-needed']],
    ['rule 9: media only, not all shared', 'media-pxe', unshared, ['download-when-needed']],
    ['rule 9: hidden, not all shared', 'media-pxe-hidden', unshared, ['download-when-needed']],
    ['example 2: clients only, not all shared', 'clients-only', unshared, ['download-when-needed', 'download-all-first']],
    ['example 3: clients only, all shared', 'clients-only', shared, ['download-when-needed', 'download-all-first', 'access-directly']],
    ['rule 9+10: media, all shared', 'media-pxe', shared, ['download-when-needed', 'access-directly']],
    ['no packages: "all" hold vacuously', 'clients-only', [], ['download-when-needed', 'download-all-first', 'access-directly']],
  ];
  it.each(rows)('%s', (_l, availableTo, packages, expected) => {
    expect(offeredDeploymentOptions(availableTo, packages)).toEqual(expected);
  });
});
