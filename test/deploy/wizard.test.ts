/**
 * The deploy wizard, rule by rule (configmgr-rules.md numbers). Every block has a
 * refused case and an accepted case next to it, so it fails if the rule's
 * enforcement is removed and can't pass by refusing everything.
 */
import { describe, expect, it } from 'vitest';
import { DEPLOY_ERRORS } from '../../src/deploy/error-codes.js';
import { runDeployWizard } from '../../src/deploy/wizard.js';
import { templateSettingsFrom } from '../../src/deploy/templates.js';
import { defaultDeploymentSettings } from '../../src/deploy/defaults.js';
import type { AvailableTo, TaskSequence, TemplateSettings } from '../../src/site/model.js';
import { ALL_UNKNOWN_COMPUTERS_ID, AVAILABLE_TO } from '../../src/site/model.js';
import {
  allSystems, allUnknownComputers, byId, collection, deployment, device, devices, lookups, osTaskSequence, pkg,
  scriptTaskSequence, sharedPkg, siteSettings, step, template, unknownObjects, wizardCase,
} from './factories.js';
import { requiredPxe, thrown } from './helpers.js';

describe('runDeployWizard: a plain deployment', () => {
  it('uses the ConfigMgr defaults when nothing is chosen', () => {
    const out = runDeployWizard(...wizardCase());
    expect(out.settings).toEqual(defaultDeploymentSettings());
    expect(out.warnings).toEqual([]);
    expect(out.highRisk).toEqual({ warnings: [], accepted: false, memberCountAtCreation: 3 });
  });

  it('refuses a task sequence that does not exist (404)', () => {
    const [input, ctx] = wizardCase();
    const e = thrown(() => runDeployWizard(input, { ...ctx, taskSequence: undefined }));
    expect([e.code, e.status]).toEqual(['PXE_ERR_NOT_FOUND', 404]);
  });
});

describe('rule 1: a task sequence with an invalid reference cannot be deployed', () => {
  const broken: Array<[string, TaskSequence, string]> = [
    ['missing boot image', osTaskSequence({ bootImageId: 'PXP0DEAD' }), 'missing-boot-image'],
    ['step package missing', osTaskSequence({ steps: [step({ type: 'download-package', packageId: 'PXP0DEAD' })] }), 'missing-package'],
    ['apply-image without package', osTaskSequence({ steps: [step({ type: 'apply-image' })] }), 'package-required'],
    ['download-package without package', osTaskSequence({ steps: [step({ type: 'download-package', packageId: '' })] }), 'package-required'],
    ['set-variable without name', osTaskSequence({ steps: [step({ type: 'set-variable', variableValue: 'x' })] }), 'variable-name-required'],
    ['run-command without command line', osTaskSequence({ steps: [step({ type: 'run-command' })] }), 'command-line-required'],
  ];
  it.each(broken)('refuses: %s', (_label, ts, kind) => {
    const e = thrown(() => runDeployWizard(...wizardCase({}, { taskSequence: ts })));
    expect(e.code).toBe(DEPLOY_ERRORS.invalidReference);
    expect(e.details.rule).toBe(1);
    expect((e.details.problems as Array<{ kind: string }>).map((p) => p.kind)).toContain(kind);
  });

  it('accepts the same task sequence once the references are valid', () => {
    expect(() => runDeployWizard(...wizardCase({}, { taskSequence: osTaskSequence() }))).not.toThrow();
  });
});

describe('rule 2: only device collections; unknown computers through All Unknown Computers', () => {
  it('refuses a ConfigMgr user collection id with PXE_ERR_USER_COLLECTION', () => {
    const [input, ctx] = wizardCase({ collectionId: 'SMS00004' }, { collection: undefined });
    const e = thrown(() => runDeployWizard(input, ctx));
    expect([e.code, e.status, e.details.rule]).toEqual([DEPLOY_ERRORS.userCollection, 422, 2]);
    expect(e.message).toContain('device collections');
    expect(e.message).toContain(ALL_UNKNOWN_COMPUTERS_ID);
  });

  it('refuses a collection id that does not exist, naming All Unknown Computers', () => {
    const [input, ctx] = wizardCase({ collectionId: 'PXP09999' }, { collection: undefined });
    const e = thrown(() => runDeployWizard(input, ctx));
    expect([e.code, e.status, e.details.rule]).toEqual([DEPLOY_ERRORS.unknownCollection, 404, 2]);
    expect(e.message).toContain('All Unknown Computers');
  });

  it('accepts All Unknown Computers, counting its two unknown objects', () => {
    const out = runDeployWizard(...wizardCase({}, { collection: allUnknownComputers(), members: unknownObjects() }));
    expect(out.highRisk.memberCountAtCreation).toBe(2);
  });
});

describe('rule 3: "use default DP groups" needs a DP group on the collection', () => {
  const members = devices(2);
  it('refuses it when the collection has none', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: { general: { useDefaultDpGroups: true } } }, { members, collection: collection(members) })));
    expect(e.code).toBe(DEPLOY_ERRORS.noDefaultDpGroup);
  });
  it('accepts it when the collection has one', () => {
    const out = runDeployWizard(...wizardCase({ settings: { general: { useDefaultDpGroups: true } } }, { members, collection: collection(members, { defaultDpGroupId: 'PXP00050' }) }));
    expect(out.settings.general.useDefaultDpGroups).toBe(true);
  });
});

describe('rule 4: a template never supplies scheduling, pre-download or software installation', () => {
  const saved: TemplateSettings = templateSettingsFrom({
    ...defaultDeploymentSettings(),
    deploymentSettings: { purpose: 'available', availableTo: 'media-pxe', sendWakeUpPackets: false, allowMeteredDownloadAfterDeadline: false },
    userExperience: { ...defaultDeploymentSettings().userExperience, showProgress: false },
  });
  // A stored template that (wrongly) carries the three items anyway.
  const tainted = {
    ...saved,
    general: { ...saved.general, preDownload: true },
    userExperience: { ...saved.userExperience, softwareInstallOutsideMaintenance: true },
    scheduling: { available: { at: '2030-01-01T00:00:00', utc: true }, expires: null, assignments: [{ kind: 'asap' }], rerun: 'never' },
  } as unknown as TemplateSettings;

  it('applies what a template may hold', () => {
    const out = runDeployWizard(...wizardCase({ templateId: 'PXP00200' }, { template: template(saved) }));
    expect(out.settings.deploymentSettings.availableTo).toBe('media-pxe');
    expect(out.settings.userExperience.showProgress).toBe(false);
  });

  it('ignores the three items even when a stored template carries them', () => {
    const out = runDeployWizard(...wizardCase({ templateId: 'PXP00200' }, { template: template(tainted) }));
    expect(out.settings.general.preDownload).toBe(false);
    expect(out.settings.userExperience.softwareInstallOutsideMaintenance).toBe(false);
    expect(out.settings.scheduling).toEqual(defaultDeploymentSettings().scheduling);
    // …while the rest of the same template still applies.
    expect(out.settings.deploymentSettings.availableTo).toBe('media-pxe');
  });

  it('lets explicit settings override the template', () => {
    const out = runDeployWizard(...wizardCase({ templateId: 'PXP00200', settings: { userExperience: { showProgress: true } } }, { template: template(saved) }));
    expect(out.settings.userExperience.showProgress).toBe(true);
  });

  it('refuses a templateId whose template was not found', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ templateId: 'PXP00299' })));
    expect([e.code, e.status]).toEqual([DEPLOY_ERRORS.templateNotFound, 404]);
  });
});

describe('rule 6: wake-up packets and metered download only for Required', () => {
  const fields = ['sendWakeUpPackets', 'allowMeteredDownloadAfterDeadline'] as const;
  it.each(fields)('refuses %s on an Available deployment, naming the field', (field) => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: { deploymentSettings: { purpose: 'available', [field]: true } } })));
    expect([e.code, e.details.rule, e.details.field]).toEqual([DEPLOY_ERRORS.requiredOnlyOption, 6, `settings.deploymentSettings.${field}`]);
  });
  it.each(fields)('accepts %s on a Required deployment', (field) => {
    const members = devices(3);
    const out = runDeployWizard(...wizardCase({ settings: requiredPxe({ deploymentSettings: { [field]: true } }) }, { members }));
    expect(out.settings.deploymentSettings[field]).toBe(true);
  });
});

describe('rule 7: "run independently of assignments" is always on for Available', () => {
  it('forces it on for Available and says so', () => {
    const out = runDeployWizard(...wizardCase({ settings: { userExperience: { allowRunIndependently: false } } }));
    expect(out.settings.userExperience.allowRunIndependently).toBe(true);
    expect(out.warnings.join(' ')).toMatch(/allowRunIndependently.*rule 7/);
  });
  it('keeps the choice for Required', () => {
    const out = runDeployWizard(...wizardCase({ settings: requiredPxe({ userExperience: { allowRunIndependently: false } }) }));
    expect(out.settings.userExperience.allowRunIndependently).toBe(false);
    expect(out.warnings.join(' ')).not.toMatch(/rule 7/);
  });
});

describe('rule 9: download-all is not offered when media/PXE is targeted', () => {
  const mediaTargets: AvailableTo[] = ['clients-media-pxe', 'media-pxe', 'media-pxe-hidden'];
  it.each(mediaTargets)('refuses download-all-first with %s', (availableTo) => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: { deploymentSettings: { availableTo }, distributionPoints: { deploymentOption: 'download-all-first' } } })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.downloadAllWithMedia, 9]);
  });
  it('accepts download-all-first for clients only (docs example 2)', () => {
    const out = runDeployWizard(...wizardCase({ settings: { deploymentSettings: { availableTo: 'clients-only' }, distributionPoints: { deploymentOption: 'download-all-first' } } }));
    expect(out.settings.distributionPoints.deploymentOption).toBe('download-all-first');
  });
});

describe('rule 10: access-directly only when every referenced package has a package share', () => {
  it('refuses it when a package has no share, naming the package', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: { distributionPoints: { deploymentOption: 'access-directly' } } })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.accessDirectlyNeedsShare, 10]);
    expect(e.message).toContain('PXP00020');
  });
  it('accepts it when all packages are shared (docs example 3)', () => {
    const out = runDeployWizard(...wizardCase({ settings: { distributionPoints: { deploymentOption: 'access-directly' } } }, { taskSequence: scriptTaskSequence() }));
    expect(out.settings.distributionPoints.deploymentOption).toBe('access-directly');
  });
  it('accepts it with a media/PXE target when all packages are shared', () => {
    const packages = byId(sharedPkg('PXP00020'), sharedPkg('PXP00021'));
    const out = runDeployWizard(...wizardCase(
      { settings: { deploymentSettings: { availableTo: 'media-pxe' }, distributionPoints: { deploymentOption: 'access-directly' } } },
      { packages },
    ));
    expect(out.settings.distributionPoints.deploymentOption).toBe('access-directly');
  });
});

describe('rule 11: media/PXE targets only for a task sequence with a boot image', () => {
  it.each(['clients-media-pxe', 'media-pxe', 'media-pxe-hidden'] as AvailableTo[])('refuses %s without a boot image', (availableTo) => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: { deploymentSettings: { availableTo } } }, { taskSequence: scriptTaskSequence() })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.mediaNeedsBootImage, 11]);
  });
  it('accepts clients-only without a boot image, and media-pxe with one', () => {
    expect(runDeployWizard(...wizardCase({}, { taskSequence: scriptTaskSequence() })).settings.deploymentSettings.availableTo).toBe('clients-only');
    expect(runDeployWizard(...wizardCase({ settings: { deploymentSettings: { availableTo: 'media-pxe' } } })).settings.deploymentSettings.availableTo).toBe('media-pxe');
  });
});

describe('rule 14: a disabled task sequence can be deployed, with a warning', () => {
  it('deploys it and warns that it will not run until enabled', () => {
    const out = runDeployWizard(...wizardCase({}, { taskSequence: osTaskSequence({ disabled: true }) }));
    expect(out.warnings.join(' ')).toMatch(/disabled.*won't run until .*enabled/);
  });
  it('does not warn for an enabled task sequence', () => {
    const out = runDeployWizard(...wizardCase({}, { taskSequence: osTaskSequence({ disabled: false }) }));
    expect(out.warnings.join(' ')).not.toMatch(/rule 14/);
  });
});

describe('rule 16: pre-download needs an Available deployment', () => {
  it('refuses pre-download on Required', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: requiredPxe({ general: { preDownload: true } }) })));
    expect([e.code, e.details.rule, e.details.field]).toEqual([DEPLOY_ERRORS.preDownloadNeedsAvailable, 16, 'settings.general.preDownload']);
  });
  it('accepts pre-download on Available', () => {
    expect(runDeployWizard(...wizardCase({ settings: { general: { preDownload: true } } })).settings.general.preDownload).toBe(true);
  });
});

describe('rule 18: "make available to" has exactly four values', () => {
  it.each(['everyone', 'pxe', '', null])('refuses %j', (availableTo) => {
    const settings = { deploymentSettings: { availableTo } } as never;
    const e = thrown(() => runDeployWizard(...wizardCase({ settings })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.invalidAvailableTo, 18]);
  });
  it.each(AVAILABLE_TO)('accepts %s', (availableTo) => {
    expect(runDeployWizard(...wizardCase({ settings: { deploymentSettings: { availableTo } } })).settings.deploymentSettings.availableTo).toBe(availableTo);
  });
});

describe('rule 130: verification applies to Required OS deployments only', () => {
  const withServer = [device({ isServer: true }), ...devices(2)];
  it('verifies a Required OS deployment (a server member needs consent)', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: requiredPxe() }, { members: withServer })));
    expect(e.code).toBe(DEPLOY_ERRORS.highRiskNotAccepted);
  });
  it('verifies a Required task sequence with an apply-image step but no boot image', () => {
    const ts = scriptTaskSequence({ steps: [step({ type: 'apply-image', packageId: 'PXP00020' })] });
    const settings = { deploymentSettings: { purpose: 'required' as const }, scheduling: { assignments: [{ kind: 'asap' as const }] } };
    const e = thrown(() => runDeployWizard(...wizardCase({ settings }, { taskSequence: ts, members: withServer })));
    expect(e.code).toBe(DEPLOY_ERRORS.highRiskNotAccepted);
  });
  it('does not verify an Available OS deployment or a Required non-OS one', () => {
    expect(runDeployWizard(...wizardCase({}, { members: withServer })).highRisk.warnings).toEqual([]);
    const settings = { deploymentSettings: { purpose: 'required' as const }, scheduling: { assignments: [{ kind: 'asap' as const }] } };
    expect(runDeployWizard(...wizardCase({ settings }, { taskSequence: scriptTaskSequence(), members: withServer })).highRisk.warnings).toEqual([]);
  });
});

describe('rule 131: maximum size must be 0 or greater than the default size', () => {
  it.each([[100, 50], [100, 100]])('refuses default %i with maximum %i', (defaultSize, maximumSize) => {
    const e = thrown(() => runDeployWizard(...wizardCase({}, { siteSettings: siteSettings({ defaultSize, maximumSize }) })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.verificationSettings, 131]);
  });
  it.each([[100, 0], [100, 101], [0, 5]])('accepts default %i with maximum %i', (defaultSize, maximumSize) => {
    expect(() => runDeployWizard(...wizardCase({}, { siteSettings: siteSettings({ defaultSize, maximumSize }) }))).not.toThrow();
  });
});

describe('rule 132: collection size limits (default 5, maximum 10)', () => {
  const site = siteSettings({ defaultSize: 5, maximumSize: 10 });
  const run = (count: number, flags: { show?: boolean; accept?: boolean } = {}) => {
    const members = devices(count);
    return runDeployWizard(...wizardCase(
      { settings: requiredPxe(), showCollectionsOverDefaultSize: flags.show, acceptHighRisk: flags.accept },
      { members, siteSettings: site },
    ));
  };
  it('accepts a collection at the default size without any flag', () => {
    expect(run(5).highRisk).toEqual({ warnings: [], accepted: false, memberCountAtCreation: 5 });
  });
  it('refuses a collection over the default size while it is hidden', () => {
    expect(thrown(() => run(6, { accept: true })).code).toBe(DEPLOY_ERRORS.collectionHidden);
  });
  it('shown over the default size: warns (rule 135) and needs consent', () => {
    expect(thrown(() => run(8, { show: true })).code).toBe(DEPLOY_ERRORS.highRiskNotAccepted);
    const out = run(8, { show: true, accept: true });
    expect(out.highRisk.accepted).toBe(true);
    expect(out.highRisk.warnings.join(' ')).toMatch(/8 members, more than the site's default size/);
  });
  it('accepts exactly the maximum size, refuses one more even when shown and accepted', () => {
    expect(run(10, { show: true, accept: true }).highRisk.memberCountAtCreation).toBe(10);
    const e = thrown(() => run(11, { show: true, accept: true }));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.collectionTooLarge, 132]);
  });
});

describe('rule 133: high-risk only to custom collections and All Unknown Computers', () => {
  it('refuses All Systems for a Required OS deployment', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: requiredPxe(), acceptHighRisk: true }, { collection: allSystems(), members: devices(2) })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.builtinCollection, 133]);
  });
  it('accepts All Unknown Computers and custom collections', () => {
    expect(() => runDeployWizard(...wizardCase({ settings: requiredPxe() }, { collection: allUnknownComputers(), members: unknownObjects() }))).not.toThrow();
    expect(() => runDeployWizard(...wizardCase({ settings: requiredPxe() }))).not.toThrow();
  });
  it('accepts All Systems for an Available deployment (not high-risk)', () => {
    expect(() => runDeployWizard(...wizardCase({}, { collection: allSystems(), members: devices(2) }))).not.toThrow();
  });
});

describe('rule 134: a site system server blocks when the site says block', () => {
  const members = [device({ name: 'DP01', isSiteSystem: true }), ...devices(2)];
  it('refuses with block, even with consent', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: requiredPxe(), acceptHighRisk: true }, { members, siteSettings: siteSettings({ siteSystemCollections: 'block' }) })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.siteSystemBlocked, 134]);
    expect(e.message).toContain('DP01');
  });
  it('only warns with warn', () => {
    const out = runDeployWizard(...wizardCase({ settings: requiredPxe(), acceptHighRisk: true }, { members, siteSettings: siteSettings({ siteSystemCollections: 'warn' }) }));
    expect(out.highRisk.warnings.join(' ')).toMatch(/site system servers: DP01/);
  });
});

describe('rule 135: warnings need explicit consent', () => {
  const cases: Array<[string, () => ReturnType<typeof device>[], RegExp]> = [
    ['a server', () => [device({ name: 'SRV01', isServer: true }), ...devices(2)], /servers: SRV01/],
    ['a site system (warn)', () => [device({ name: 'MP01', isSiteSystem: true })], /site system servers: MP01/],
  ];
  it.each(cases)('refuses %s without acceptHighRisk, listing the warning', (_l, members, pattern) => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: requiredPxe() }, { members: members() })));
    expect([e.code, e.details.rule]).toEqual([DEPLOY_ERRORS.highRiskNotAccepted, 135]);
    expect((e.details.warnings as string[]).join(' ')).toMatch(pattern);
  });
  it.each(cases)('accepts %s with acceptHighRisk and records the consent', (_l, members, pattern) => {
    const out = runDeployWizard(...wizardCase({ settings: requiredPxe(), acceptHighRisk: true }, { members: members() }));
    expect(out.highRisk.accepted).toBe(true);
    expect(out.highRisk.warnings.join(' ')).toMatch(pattern);
  });
  it('needs no consent for a clean collection', () => {
    const out = runDeployWizard(...wizardCase({ settings: requiredPxe() }));
    expect(out.highRisk).toEqual({ warnings: [], accepted: false, memberCountAtCreation: 3 });
  });
});

describe('rule 136: membership is verified at creation and not re-evaluated', () => {
  const members = devices(3);
  const coll = collection(members);
  const created = runDeployWizard(...wizardCase({ settings: requiredPxe() }, { members, collection: coll }));
  const existing = deployment({ ...created.settings, collectionId: coll.id, highRisk: created.highRisk });
  // Since creation the collection has grown, and now holds a server.
  const grown = [...members, device({ name: 'SRV09', isServer: true }), ...devices(200)];
  const grownColl = collection(grown);

  it('records the member count at creation', () => {
    expect(created.highRisk.memberCountAtCreation).toBe(3);
  });
  it('keeps the verdict on an update that keeps collection and purpose', () => {
    const out = runDeployWizard(
      ...wizardCase({ settings: { userExperience: { showProgress: false } } }, { members: grown, collection: grownColl, existing }),
    );
    expect(out.highRisk).toEqual(created.highRisk);
    expect(out.settings.deploymentSettings.purpose).toBe('required');
    expect(out.settings.userExperience.showProgress).toBe(false);
  });
  it('verifies again when the update changes the purpose', () => {
    const wasAvailable = deployment({ collectionId: coll.id });
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: requiredPxe(), showCollectionsOverDefaultSize: true }, { members: grown, collection: grownColl, existing: wasAvailable })));
    expect(e.code).toBe(DEPLOY_ERRORS.highRiskNotAccepted);
  });
  it('refuses an update that changes the task sequence', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({}, { taskSequence: scriptTaskSequence(), existing })));
    expect(e.code).toBe(DEPLOY_ERRORS.taskSequenceChange);
  });
});

describe('scheduling page', () => {
  it('refuses assignment schedules on an Available deployment', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: { scheduling: { assignments: [{ kind: 'asap' }] } } })));
    expect([e.code, e.details.field]).toEqual([DEPLOY_ERRORS.assignmentSchedule, 'settings.scheduling.assignments']);
  });
  it('requires an assignment for a Required deployment full-OS clients see, not for media/PXE only', () => {
    const clients = { deploymentSettings: { purpose: 'required' as const, availableTo: 'clients-media-pxe' as const } };
    expect(thrown(() => runDeployWizard(...wizardCase({ settings: clients }))).code).toBe(DEPLOY_ERRORS.assignmentSchedule);
    const out = runDeployWizard(...wizardCase({ settings: { ...clients, scheduling: { assignments: [{ kind: 'asap' }] } } }));
    expect(out.settings.scheduling.assignments).toEqual([{ kind: 'asap' }]);
    expect(runDeployWizard(...wizardCase({ settings: requiredPxe() })).settings.scheduling.assignments).toEqual([]);
  });
  it('refuses an expiry not after the available time; accepts a later one', () => {
    const at = (t: string) => ({ at: t, utc: true });
    const bad = { scheduling: { available: at('2026-12-01T08:00:00'), expires: at('2026-12-01T08:00:00') } };
    expect(thrown(() => runDeployWizard(...wizardCase({ settings: bad }))).code).toBe(DEPLOY_ERRORS.expiresBeforeAvailable);
    const good = { scheduling: { available: at('2026-12-01T08:00:00'), expires: at('2026-12-01T08:00:01') } };
    expect(runDeployWizard(...wizardCase({ settings: good })).settings.scheduling.expires).toEqual(at('2026-12-01T08:00:01'));
  });
  it('reads a scheduled time without utc as client local time', () => {
    const settings = { scheduling: { available: { at: '2026-12-01T08:00' } } };
    expect(runDeployWizard(...wizardCase({ settings })).settings.scheduling.available).toEqual({ at: '2026-12-01T08:00', utc: false });
  });
  it('warns that PXE/media clients ignore schedules on a media-only deployment (rule 28)', () => {
    const out = runDeployWizard(...wizardCase({ settings: requiredPxe({ scheduling: { assignments: [{ kind: 'asap' }] } }) }));
    expect(out.warnings.join(' ')).toMatch(/rule 28/);
  });
});

describe('input ranges and formats', () => {
  const bad: Array<[string, unknown, string]> = [
    ['invalid calendar date', { scheduling: { available: { at: '2026-02-30T00:00:00', utc: true } } }, 'settings.scheduling.available.at'],
    ['date with an offset', { scheduling: { available: { at: '2026-02-03T00:00:00Z', utc: true } } }, 'settings.scheduling.available.at'],
    ['alert percent over 100', { alerts: { failureAbovePercent: 101 } }, 'settings.alerts.failureAbovePercent'],
    ['alert percent fractional', { alerts: { failureAbovePercent: 2.5 } }, 'settings.alerts.failureAbovePercent'],
    ['success alert without its date', { alerts: { successBelowPercent: 90 } }, 'settings.alerts.successCheckAfter'],
    ['weekly dayOfWeek 7', { deploymentSettings: { purpose: 'required', availableTo: 'media-pxe' }, scheduling: { assignments: [{ kind: 'recurring', start: { at: '2026-12-01T08:00:00', utc: false }, recurrence: { kind: 'weekly', everyWeeks: 1, dayOfWeek: 7 } }] } }, 'settings.scheduling.assignments[0].recurrence.dayOfWeek'],
    ['custom interval 0', { deploymentSettings: { purpose: 'required', availableTo: 'media-pxe' }, scheduling: { assignments: [{ kind: 'recurring', start: { at: '2026-12-01T08:00:00', utc: false }, recurrence: { kind: 'custom', every: 0, unit: 'days' } }] } }, 'settings.scheduling.assignments[0].recurrence.every'],
    ['unknown setting', { deploymentSettings: { purpse: 'required' } }, 'deploymentSettings.purpse'],
    ['boolean as string', { userExperience: { showProgress: 'yes' } }, 'settings.userExperience.showProgress'],
    ['unknown purpose', { deploymentSettings: { purpose: 'mandatory' } }, 'settings.deploymentSettings.purpose'],
  ];
  it.each(bad)('refuses %s', (_l, settings, field) => {
    const e = thrown(() => runDeployWizard(...wizardCase({ settings: settings as never })));
    expect([e.code, e.details.field]).toEqual(['PXE_ERR_INVALID', field]);
  });
  it('accepts in-range values', () => {
    const settings = {
      deploymentSettings: { purpose: 'required' as const, availableTo: 'media-pxe' as const },
      scheduling: { assignments: [{ kind: 'recurring' as const, start: { at: '2026-12-01T08:00:00', utc: false }, recurrence: { kind: 'monthly-weekday' as const, everyMonths: 12, week: 0, dayOfWeek: 6 } }] },
      alerts: { successBelowPercent: 0, successCheckAfter: '2026-12-24T00:00:00.000', failureAbovePercent: 100 },
    };
    expect(() => runDeployWizard(...wizardCase({ settings }))).not.toThrow();
  });
});

describe('packages outside the lookup', () => {
  it('treats an unknown package as an invalid reference, not a crash', () => {
    const e = thrown(() => runDeployWizard(...wizardCase({}, { packages: byId(pkg('PXP00020')) })));
    expect(e.code).toBe(DEPLOY_ERRORS.invalidReference);
    expect(lookups().packages.size).toBe(3);
  });
});
