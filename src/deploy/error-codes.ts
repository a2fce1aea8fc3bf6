/**
 * Stable codes of the deploy wizard's refusals. Each is raised with `wizardRule`
 * (HTTP 422, `details.rule` = the configmgr-rules.md number) unless noted.
 * Kept here, next to the rules, because src/errors.ts holds only the generic
 * constructors; move them into the catalogue if it grows a code list.
 */
export const DEPLOY_ERRORS = {
  /** Rule 1: the task sequence has a reference that is not valid. */
  invalidReference: 'PXE_ERR_TS_INVALID_REFERENCE',
  /** Rule 2: a ConfigMgr user collection ID (SMS00002–SMS00004) was named. */
  userCollection: 'PXE_ERR_USER_COLLECTION',
  /** Rule 2: no device collection with that ID (404). */
  unknownCollection: 'PXE_ERR_UNKNOWN_COLLECTION',
  /** Rule 3: "Use default distribution point groups" without a group on the collection. */
  noDefaultDpGroup: 'PXE_ERR_NO_DEFAULT_DP_GROUP',
  /** Rule 4: the named template is not the one supplied, or is missing (404). */
  templateNotFound: 'PXE_ERR_TEMPLATE_NOT_FOUND',
  /** Rule 6: wake-up packets / metered download on an Available deployment. */
  requiredOnlyOption: 'PXE_ERR_REQUIRED_ONLY_OPTION',
  /** Rule 9: "download all content first" with a media/PXE target. */
  downloadAllWithMedia: 'PXE_ERR_DOWNLOAD_ALL_WITH_MEDIA',
  /** Rule 10: "access content directly" while a package has no package share. */
  accessDirectlyNeedsShare: 'PXE_ERR_ACCESS_DIRECTLY_NEEDS_SHARE',
  /** Rule 11: a media/PXE target for a task sequence without a boot image. */
  mediaNeedsBootImage: 'PXE_ERR_MEDIA_PXE_NEEDS_BOOT_IMAGE',
  /** Rule 16: pre-download on a Required deployment. */
  preDownloadNeedsAvailable: 'PXE_ERR_PREDOWNLOAD_NEEDS_AVAILABLE',
  /** Rule 18: "make available to" is not one of the four values. */
  invalidAvailableTo: 'PXE_ERR_INVALID_AVAILABLE_TO',
  /** Rule 30: assignment schedules on an Available deployment, or none on a client-targeted Required one. */
  assignmentSchedule: 'PXE_ERR_ASSIGNMENT_SCHEDULE',
  /** Scheduling: expiry not after the available time. */
  expiresBeforeAvailable: 'PXE_ERR_EXPIRES_BEFORE_AVAILABLE',
  /** A deployment update tried to change its task sequence. */
  taskSequenceChange: 'PXE_ERR_DEPLOYMENT_TS_IMMUTABLE',
  /** Rule 131: site deployment-verification settings are inconsistent. */
  verificationSettings: 'PXE_ERR_VERIFICATION_SETTINGS',
  /** Rule 132: collection larger than the site's maximum size. */
  collectionTooLarge: 'PXE_ERR_HIGH_RISK_COLLECTION_TOO_LARGE',
  /** Rule 132: collection over the default size without `showCollectionsOverDefaultSize`. */
  collectionHidden: 'PXE_ERR_HIGH_RISK_COLLECTION_HIDDEN',
  /** Rule 133: built-in collection other than All Unknown Computers. */
  builtinCollection: 'PXE_ERR_HIGH_RISK_BUILTIN_COLLECTION',
  /** Rule 134: site system server in the collection and the site blocks. */
  siteSystemBlocked: 'PXE_ERR_HIGH_RISK_SITE_SYSTEM',
  /** Rule 135: warnings the caller has not accepted (`acceptHighRisk`). */
  highRiskNotAccepted: 'PXE_ERR_HIGH_RISK_NOT_ACCEPTED',
} as const;

export type DeployErrorCode = (typeof DEPLOY_ERRORS)[keyof typeof DEPLOY_ERRORS];
