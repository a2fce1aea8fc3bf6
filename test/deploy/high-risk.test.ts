import { describe, expect, it } from 'vitest';
import { isHighRisk, validateVerificationSettings, verifyHighRisk, type HighRiskCheck } from '../../src/deploy/high-risk.js';
import { DEPLOY_ERRORS } from '../../src/deploy/error-codes.js';
import type { DeploymentVerificationSettings } from '../../src/site/model.js';
import { allSystems, allUnknownComputers, collection, device, devices, osTaskSequence, scriptTaskSequence, step, unknownObjects } from './factories.js';
import { thrown } from './helpers.js';

const site = (s: Partial<DeploymentVerificationSettings> = {}): DeploymentVerificationSettings => ({ defaultSize: 100, maximumSize: 0, siteSystemCollections: 'warn', ...s });
const check = (over: Partial<HighRiskCheck> = {}): HighRiskCheck => {
  const members = over.members ?? devices(3);
  return { collection: collection(members), members, settings: site(), purpose: 'required', ts: osTaskSequence(), ...over };
};

describe('rule 130: isHighRisk', () => {
  const rows: Array<[string, boolean]> = [
    ['required + boot image', isHighRisk('required', osTaskSequence())],
    ['required + apply-image, no boot image', isHighRisk('required', scriptTaskSequence({ steps: [step({ type: 'apply-image', packageId: 'X' })] }))],
    ['required + disabled apply-image step', isHighRisk('required', scriptTaskSequence({ steps: [step({ type: 'apply-image', packageId: 'X', disabled: true })] }))],
  ];
  it.each(rows)('%s is high-risk', (_l, v) => expect(v).toBe(true));
  it('available, or no OS, is not', () => {
    expect(isHighRisk('available', osTaskSequence())).toBe(false);
    expect(isHighRisk('required', scriptTaskSequence())).toBe(false);
  });
  it('verifyHighRisk passes anything that is not high-risk', () => {
    expect(verifyHighRisk(check({ purpose: 'available', collection: allSystems(), members: devices(500) }))).toEqual({ warnings: [] });
  });
});

describe('rule 131: validateVerificationSettings', () => {
  it.each([
    [{ defaultSize: 100, maximumSize: 100 }, 'maximumSize'],
    [{ defaultSize: 100, maximumSize: 99 }, 'maximumSize'],
    [{ defaultSize: -1 }, 'defaultSize'],
    [{ maximumSize: 1.5 }, 'maximumSize'],
    [{ siteSystemCollections: 'ignore' as never }, 'siteSystemCollections'],
  ])('refuses %j', (s, key) => {
    const e = thrown(() => validateVerificationSettings(site(s)));
    expect([e.code, e.details.field]).toEqual([DEPLOY_ERRORS.verificationSettings, `siteSettings.deploymentVerification.${key}`]);
  });
  it.each([{}, { maximumSize: 1000 }, { defaultSize: 0, maximumSize: 0 }, { defaultSize: 0, maximumSize: 1 }])('accepts %j', (s) => {
    expect(() => validateVerificationSettings(site(s))).not.toThrow();
  });
});

describe('rule 132: sizes (docs example: default 100, maximum 1000)', () => {
  const settings = site({ defaultSize: 100, maximumSize: 1000 });
  it.each([
    [100, false, undefined, 0],
    [101, false, DEPLOY_ERRORS.collectionHidden, 0],
    [101, true, undefined, 1],
    [1000, true, undefined, 1],
    [1001, true, DEPLOY_ERRORS.collectionTooLarge, 0],
  ])('%i members, shown=%s → %s', (count, show, code, warningCount) => {
    const v = verifyHighRisk(check({ members: devices(count), settings, showCollectionsOverDefaultSize: show }));
    expect(v.blocked?.code).toBe(code);
    if (code === undefined) expect(v.warnings).toHaveLength(warningCount);
  });
  it('ignores both sizes when they are 0', () => {
    expect(verifyHighRisk(check({ members: devices(5000), settings: site({ defaultSize: 0, maximumSize: 0 }) }))).toEqual({ warnings: [] });
  });
});

describe('rule 133: built-in collections', () => {
  it('blocks All Systems', () => {
    expect(verifyHighRisk(check({ collection: allSystems(), members: devices(3) })).blocked?.code).toBe(DEPLOY_ERRORS.builtinCollection);
  });
  it('allows All Unknown Computers', () => {
    expect(verifyHighRisk(check({ collection: allUnknownComputers(), members: unknownObjects() }))).toEqual({ warnings: [] });
  });
});

describe('rules 134/135: site systems and servers', () => {
  const siteSystem = device({ name: 'DP01', isSiteSystem: true });
  it('blocks a site system with "block"', () => {
    const v = verifyHighRisk(check({ members: [siteSystem], settings: site({ siteSystemCollections: 'block' }) }));
    expect(v.blocked?.code).toBe(DEPLOY_ERRORS.siteSystemBlocked);
  });
  it('warns on a site system with "warn"', () => {
    const v = verifyHighRisk(check({ members: [siteSystem] }));
    expect(v.blocked).toBeUndefined();
    expect(v.warnings).toHaveLength(1);
  });
  it('warns on a server, listing at most five names', () => {
    const v = verifyHighRisk(check({ members: devices(7, { isServer: true }) }));
    expect(v.warnings).toHaveLength(1);
    expect(v.warnings[0]).toMatch(/and 2 more/);
  });
});
