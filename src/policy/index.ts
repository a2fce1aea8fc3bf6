/** The policy service's pure core: build a snapshot of the site, then ask it what a client may run. */
export { buildPolicySnapshot, loadPolicySnapshot, withDeviceStatuses, type PolicySiteData } from './snapshot.js';
export { selectPolicy, environmentFor } from './select.js';
export { PREFERRED_ADVERT_VARIABLE } from './preferred.js';
export { VARIABLE_LIMITS, mergeVariables, findVariable } from './variables.js';
export { advertFlagsOf, visibilityExclusion } from './availability.js';
export type * from './types.js';
