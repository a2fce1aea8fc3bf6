import { describe, expect, it } from 'vitest';
import { defaultDeploymentSettings, mergeSettings } from '../../src/deploy/defaults.js';
import { settingsFromTemplate, templateSettingsFrom } from '../../src/deploy/templates.js';
import { thrown } from './helpers.js';

describe('defaultDeploymentSettings', () => {
  it('has the ConfigMgr defaults', () => {
    const d = defaultDeploymentSettings();
    expect(d.deploymentSettings).toEqual({ purpose: 'available', availableTo: 'clients-only', sendWakeUpPackets: false, allowMeteredDownloadAfterDeadline: false });
    expect(d.scheduling.rerun).toBe('always'); // rule 37
    expect(d.userExperience.allowRunIndependently).toBe(true);
    expect(d.userExperience.showProgress).toBe(true);
    expect(d.distributionPoints).toEqual({ deploymentOption: 'download-when-needed', allowNeighbourFallback: false, allowDefaultSiteFallback: false });
  });
  it('returns a fresh object each call', () => {
    const a = defaultDeploymentSettings();
    a.scheduling.assignments.push({ kind: 'asap' });
    expect(defaultDeploymentSettings().scheduling.assignments).toEqual([]);
  });
});

describe('mergeSettings', () => {
  it('replaces only what is given, deeply, without touching its arguments', () => {
    const base = defaultDeploymentSettings();
    const partial = { deploymentSettings: { purpose: 'required' as const }, scheduling: { available: { at: '2026-12-01T08:00:00', utc: true } } };
    const merged = mergeSettings(base, partial);
    expect(merged.deploymentSettings.purpose).toBe('required');
    expect(merged.deploymentSettings.availableTo).toBe('clients-only');
    expect(merged.scheduling.available).toEqual({ at: '2026-12-01T08:00:00', utc: true });
    expect(base).toEqual(defaultDeploymentSettings());
    merged.scheduling.available!.at = 'changed';
    expect(partial.scheduling.available.at).toBe('2026-12-01T08:00:00');
  });
  it('replaces arrays whole and keeps explicit nulls', () => {
    const base = mergeSettings(defaultDeploymentSettings(), { scheduling: { assignments: [{ kind: 'asap' }, { kind: 'logon' }], expires: { at: '2027-01-01T00:00:00', utc: false } } });
    const merged = mergeSettings(base, { scheduling: { assignments: [{ kind: 'logoff' }], expires: null } });
    expect(merged.scheduling.assignments).toEqual([{ kind: 'logoff' }]);
    expect(merged.scheduling.expires).toBeNull();
  });
  it('refuses unknown keys, including __proto__', () => {
    expect(thrown(() => mergeSettings(defaultDeploymentSettings(), { general: { preDownlaod: true } } as never)).details.field).toBe('general.preDownlaod');
    const polluted = JSON.parse('{"general": {"__proto__": {"polluted": true}}}');
    expect(thrown(() => mergeSettings(defaultDeploymentSettings(), polluted)).code).toBe('PXE_ERR_INVALID');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('rule 4: templates drop scheduling, pre-download and software installation', () => {
  const full = mergeSettings(defaultDeploymentSettings(), {
    general: { preDownload: true, useDefaultDpGroups: true },
    scheduling: { available: { at: '2026-12-01T08:00:00', utc: true }, rerun: 'never' },
    userExperience: { softwareInstallOutsideMaintenance: true, showProgress: false },
    deploymentSettings: { availableTo: 'media-pxe' },
  });
  it('templateSettingsFrom leaves the three items out', () => {
    const t = templateSettingsFrom(full) as unknown as Record<string, Record<string, unknown>>;
    expect(t.scheduling).toBeUndefined();
    expect(t.general).toEqual({ useDefaultDpGroups: true, autoDistributeDependencies: true });
    expect(t.userExperience!.softwareInstallOutsideMaintenance).toBeUndefined();
    expect(t.userExperience!.showProgress).toBe(false);
  });
  it('a round trip keeps everything else and never brings the three back', () => {
    const back = mergeSettings(defaultDeploymentSettings(), settingsFromTemplate(templateSettingsFrom(full)));
    expect(back.deploymentSettings.availableTo).toBe('media-pxe');
    expect(back.general.useDefaultDpGroups).toBe(true);
    expect(back.general.preDownload).toBe(false);
    expect(back.userExperience.softwareInstallOutsideMaintenance).toBe(false);
    expect(back.scheduling).toEqual(defaultDeploymentSettings().scheduling);
  });
});
