/**
 * Deployment templates (rule 4): everything the wizard asks except "Software
 * Installation", "Scheduling" and "Pre-download content", which the admin must
 * set again on every run. Both directions copy field by field, so a stored
 * template that somehow carries those items still can't supply them.
 */
import type { DeploymentSettings, TemplateSettings } from '../site/model.js';
import type { DeepPartial } from './defaults.js';

export function templateSettingsFrom(settings: DeploymentSettings): TemplateSettings {
  const { general, deploymentSettings, userExperience, alerts, distributionPoints } = settings;
  return structuredClone({
    general: {
      useDefaultDpGroups: general.useDefaultDpGroups,
      autoDistributeDependencies: general.autoDistributeDependencies,
    },
    deploymentSettings: { ...deploymentSettings },
    userExperience: {
      allowRunIndependently: userExperience.allowRunIndependently,
      showProgress: userExperience.showProgress,
      restartOutsideMaintenance: userExperience.restartOutsideMaintenance,
      commitWriteFilterChanges: userExperience.commitWriteFilterChanges,
      allowOnInternet: userExperience.allowOnInternet,
    },
    alerts: { ...alerts },
    distributionPoints: { ...distributionPoints },
  });
}

export function settingsFromTemplate(t: TemplateSettings): DeepPartial<DeploymentSettings> {
  return structuredClone({
    general: {
      useDefaultDpGroups: t.general.useDefaultDpGroups,
      autoDistributeDependencies: t.general.autoDistributeDependencies,
    },
    deploymentSettings: {
      purpose: t.deploymentSettings.purpose,
      availableTo: t.deploymentSettings.availableTo,
      sendWakeUpPackets: t.deploymentSettings.sendWakeUpPackets,
      allowMeteredDownloadAfterDeadline: t.deploymentSettings.allowMeteredDownloadAfterDeadline,
    },
    userExperience: {
      allowRunIndependently: t.userExperience.allowRunIndependently,
      showProgress: t.userExperience.showProgress,
      restartOutsideMaintenance: t.userExperience.restartOutsideMaintenance,
      commitWriteFilterChanges: t.userExperience.commitWriteFilterChanges,
      allowOnInternet: t.userExperience.allowOnInternet,
    },
    alerts: {
      successBelowPercent: t.alerts.successBelowPercent,
      successCheckAfter: t.alerts.successCheckAfter,
      failureAbovePercent: t.alerts.failureAbovePercent,
      opsManagerAlertOnFailure: t.alerts.opsManagerAlertOnFailure,
      disableOpsManagerAlerts: t.alerts.disableOpsManagerAlerts,
    },
    distributionPoints: {
      deploymentOption: t.distributionPoints.deploymentOption,
      allowNeighbourFallback: t.distributionPoints.allowNeighbourFallback,
      allowDefaultSiteFallback: t.distributionPoints.allowDefaultSiteFallback,
    },
  });
}
