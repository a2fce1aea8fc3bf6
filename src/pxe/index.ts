/**
 * The PXE room's public surface: what the DHCP listeners, the TFTP/HTTP composition
 * and the tests import. See docs/pxe.md.
 *
 *   const request  = pxeRequestFrom(packet, channel, { interface, clientIp });
 *   const decision = decidePxeBoot(request, { snapshot, settings, now });
 *   const session  = await prepareBoot(decision, request, { sessions, issueToken }); // publishes dhcp.decision
 *   if (decision.action !== 'ignore') answer(decision.bootFile, decision.http);      // after settings.responseDelaySeconds
 */
export type * from './types.js';
export { pxeRequestFrom, isPxeClientPacket, smbiosGuidOf, type PxeRequestContext } from './request.js';
export { decidePxeBoot, bootFileFor, ipxeScriptPath, bootFilePath, macWithDashes } from './decide.js';
export { DEFAULT_PXE_SETTINGS, pxeSettings, type PxeSettingsInput } from './settings.js';
export { identifyMachine, indexForPxe, type Identification } from './identify.js';
export { chooseBootImage, type BootImageChoice } from './boot-image.js';
export { BootSessions, describeSession, redactCapabilities, VARIABLES_NAME_PATTERN, type BootSession, type BootSessionOptions, type IssueBootToken, type IssuedToken } from './boot-sessions.js';
export { prepareBoot, decisionEvent, type PrepareBootDeps } from './prepare.js';
export { renderIpxeScript, chainLoader, callbackUrl, PROMPT_KEYS, CALLBACK_STEPS, type BootImageLoader, type IpxeScriptOptions, type CallbackStep } from './ipxe-script.js';
export { renderVariablesFile, variablesFor, PXE_DECISION_VARS, type VariablesFileOptions } from './variables-file.js';
export { bootFilesResolver, scriptFile, variablesFile, type BootFilesResolverOptions } from './boot-files.js';
export { startBootTimeline, timelineEntry, TIMELINE_EVENTS, type BootTimeline, type BootTimelineOptions } from './timeline.js';
