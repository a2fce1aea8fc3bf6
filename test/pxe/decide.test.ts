/** decidePxeBoot, one table per rule (configmgr-rules.md §5, §6). */
import { describe, expect, it } from 'vitest';
import { X64_UNKNOWN_ID, X86_UNKNOWN_ID } from '../../src/site/model.js';
import { bootFileFor, ipxeScriptPath } from '../../src/pxe/decide.js';
import { pxeSettings } from '../../src/pxe/settings.js';
import {
  GUID_KNOWN, KNOWN_ID, MAC_KNOWN, MAC_OTHER, allSystems, allUnknown, bootImage, collection, decide, deployment, device,
  pxeRequest, pxeSite, taskSequence, unknownObject,
} from './helpers.js';

const AVAILABLE = deployment('PXP20001', { purpose: 'available' });
const REQUIRED = deployment('PXP20002', { purpose: 'required' });
const UNKNOWN_AVAILABLE = deployment('PXP20010', { purpose: 'available', collection: 'SMS000US' });
const UNKNOWN_REQUIRED = deployment('PXP20011', { purpose: 'required', collection: 'SMS000US' });

describe('rule 45: responder switched off', () => {
  it('ignores everyone, known or not', () => {
    const d = decide(pxeSite({ deployments: [REQUIRED] }), {}, { respond: false });
    expect(d).toMatchObject({ action: 'ignore', reasonCode: 'responder-off', bootFile: null, deviceId: null });
  });
});

describe('rule 49: network interfaces', () => {
  const snap = pxeSite({ deployments: [REQUIRED] });
  it.each([
    ['listed interface', 'eth1', 'boot'],
    ['other interface', 'eth0', 'ignore'],
    ['interface unknown to the listener (not bound per interface)', null, 'boot'],
  ])('%s → %s', (_, iface, action) => {
    expect(decide(snap, { interface: iface }, { interfaces: ['eth1'] }).action).toBe(action);
  });
  it('reports interface-not-served', () => {
    expect(decide(snap, { interface: 'eth0' }, { interfaces: ['eth1'] }).reasonCode).toBe('interface-not-served');
  });
});

describe('rule 55: MAC exclusion list — never boots, no matter what', () => {
  it.each([
    ['known device with a required deployment', MAC_KNOWN],
    ['unknown machine with unknown support on', MAC_OTHER],
  ])('%s', (_, mac) => {
    const snap = pxeSite({ deployments: [REQUIRED, UNKNOWN_REQUIRED] });
    const d = decide(snap, { mac, smbiosGuid: null }, { macIgnoreList: [mac.toUpperCase().replace(/:/g, '-')], whenNothingApplies: 'abort' });
    expect(d).toMatchObject({ action: 'ignore', reasonCode: 'mac-ignored', bootFile: null });
  });
  it('a malformed entry is refused, not skipped', () => {
    expect(() => pxeSettings({ macIgnoreList: ['01:23:45'] })).toThrow(/rule 55/);
  });
});

describe('rule 46: unknown computer support', () => {
  const snap = pxeSite({ deployments: [UNKNOWN_REQUIRED] });
  it('off → unknown machines are not serviced', () => {
    expect(decide(snap, { mac: MAC_OTHER, smbiosGuid: null }, { unknownComputerSupport: false }))
      .toMatchObject({ action: 'ignore', reasonCode: 'unknown-not-supported' });
  });
  it('on → the unknown object\'s deployments apply', () => {
    expect(decide(snap, { mac: MAC_OTHER, smbiosGuid: null }, { unknownComputerSupport: true }))
      .toMatchObject({ action: 'boot', reasonCode: 'required', deploymentId: 'PXP20011', unknownObjectId: X64_UNKNOWN_ID, deviceId: null });
  });
  it('off does not affect known devices', () => {
    expect(decide(pxeSite({ deployments: [REQUIRED] }), {}, { unknownComputerSupport: false }).action).toBe('boot');
  });
});

describe('rule 59: the record matching the MAC or the SMBIOS GUID', () => {
  const snap = pxeSite({ deployments: [REQUIRED] });
  it.each([
    ['MAC and GUID', MAC_KNOWN, GUID_KNOWN, 'mac+smbios-guid'],
    ['MAC only (GUID absent)', MAC_KNOWN, null, 'mac'],
    ['MAC only (other GUID)', MAC_KNOWN, '4b1d0000-7777-4000-8000-0000000000ff', 'mac'],
    ['GUID only (other NIC)', MAC_OTHER, GUID_KNOWN, 'smbios-guid'],
  ])('%s', (_, mac, smbiosGuid, matchedBy) => {
    expect(decide(snap, { mac, smbiosGuid })).toMatchObject({ deviceId: KNOWN_ID, matchedBy, action: 'boot' });
  });
  it('MAC written in another form still matches', () => {
    expect(decide(snap, { mac: '52-54-00-77-00-10', smbiosGuid: null }).deviceId).toBe(KNOWN_ID);
  });
  it('MAC on one record and GUID on another → ambiguous, not serviced', () => {
    const two = pxeSite({
      deployments: [REQUIRED],
      devices: [device(KNOWN_ID, { macs: [MAC_KNOWN] }), device('16777218', { smbiosGuid: GUID_KNOWN }), unknownObject('x86'), unknownObject('x64')],
    });
    expect(decide(two, {}, { whenNothingApplies: 'abort' })).toMatchObject({ action: 'ignore', reasonCode: 'ambiguous-identity' });
  });
  it('a record carrying both wins over one sharing the MAC', () => {
    const two = pxeSite({
      deployments: [REQUIRED],
      devices: [device(KNOWN_ID, { macs: [MAC_KNOWN], smbiosGuid: GUID_KNOWN }), device('16777218', { macs: [MAC_KNOWN] }), unknownObject('x86'), unknownObject('x64')],
    });
    expect(decide(two)).toMatchObject({ deviceId: KNOWN_ID, matchedBy: 'mac+smbios-guid' });
  });
});

describe('rule 56: duplicate hardware identifiers are not used for matching', () => {
  const snap = pxeSite({ deployments: [REQUIRED, UNKNOWN_AVAILABLE] });
  it('a duplicate MAC does not find the record; the GUID still does', () => {
    expect(decide(snap, {}, { duplicateIdentifiers: [MAC_KNOWN] })).toMatchObject({ deviceId: KNOWN_ID, matchedBy: 'smbios-guid' });
  });
  it('duplicate MAC and no GUID → unknown; boots through the unknown object', () => {
    expect(decide(snap, { smbiosGuid: null }, { duplicateIdentifiers: [MAC_KNOWN] }))
      .toMatchObject({ deviceId: null, unknownObjectId: X64_UNKNOWN_ID, action: 'boot-with-prompt', deploymentId: 'PXP20010' });
  });
  it('a duplicate GUID does not match either', () => {
    expect(decide(snap, { mac: MAC_OTHER }, { duplicateIdentifiers: [GUID_KNOWN.toUpperCase()] })).toMatchObject({ deviceId: null });
  });
  it('entries are normalised (any MAC spelling, GUID braces) and malformed ones refused', () => {
    expect([...pxeSettings({ duplicateIdentifiers: ['52-54-00-77-00-10', `{${GUID_KNOWN.toUpperCase()}}`] }).duplicateIdentifiers]).toEqual([MAC_KNOWN, GUID_KNOWN]);
    expect(() => pxeSettings({ duplicateIdentifiers: ['nope'] })).toThrow(/rule 56/);
  });
  it('the duplicate list does not stop a machine from booting (unlike rule 55)', () => {
    expect(decide(snap, { smbiosGuid: null }, { duplicateIdentifiers: [MAC_KNOWN], unknownComputerSupport: false }).reasonCode)
      .toBe('unknown-not-supported');
  });
});

describe('rules 60 and 61: known and unknown deployments never mix', () => {
  it.each([
    ['known device, deployment only to Unknown Computers → nothing', { mac: MAC_KNOWN }, [UNKNOWN_REQUIRED], 'no-deployment'],
    ['unknown machine, deployment only to a known collection → nothing', { mac: MAC_OTHER, smbiosGuid: null }, [REQUIRED], 'no-deployment'],
    ['known device, its own collection', { mac: MAC_KNOWN }, [REQUIRED, UNKNOWN_AVAILABLE], 'required'],
    ['unknown machine, the unknown object', { mac: MAC_OTHER, smbiosGuid: null }, [REQUIRED, UNKNOWN_AVAILABLE], 'available'],
  ] as const)('%s', (_, req, deployments, reasonCode) => {
    expect(decide(pxeSite({ deployments: [...deployments] }), req).reasonCode).toBe(reasonCode);
  });
  it('SMSPXE-style reasons name the record and "no advertisements found"', () => {
    const d = decide(pxeSite({ deployments: [UNKNOWN_REQUIRED] }));
    expect(d.reason).toMatch(/is in the database.*no advertisements found.*Not serviced/);
  });
  it('rule 64: a provisional "Unknown" record is known on its next boot', () => {
    const snap = pxeSite({
      devices: [device('16777300', { macs: [MAC_OTHER], provisional: true }), unknownObject('x86'), unknownObject('x64')],
      deployments: [UNKNOWN_REQUIRED],
    });
    expect(decide(snap, { mac: MAC_OTHER, smbiosGuid: null })).toMatchObject({ deviceId: '16777300', reasonCode: 'no-deployment' });
  });
});

describe('rule 62: the unknown object matches the hardware', () => {
  const snap = pxeSite({ deployments: [UNKNOWN_AVAILABLE] });
  it.each([
    ['x64 UEFI → x64 Unknown Computer', 7, undefined, X64_UNKNOWN_ID],
    ['x86 UEFI → x86 Unknown Computer', 6, undefined, X86_UNKNOWN_ID],
    ['BIOS, CPU width unknown → x86 Unknown Computer', 0, undefined, X86_UNKNOWN_ID],
    ['BIOS, x64-capable CPU → x64 Unknown Computer', 0, true, X64_UNKNOWN_ID],
    ['ARM64 UEFI → x64 Unknown Computer (open question 6)', 11, undefined, X64_UNKNOWN_ID],
  ] as const)('%s', (_, code, x64Capable, unknownObjectId) => {
    const d = decide(pxeSite({ deployments: [UNKNOWN_AVAILABLE], bootImages: [...snap.bootImages.values(), bootImage('PXP00BA6', { architecture: 'arm64' })] }),
      { mac: MAC_OTHER, smbiosGuid: null, code, ...(x64Capable !== undefined ? { x64Capable } : {}) });
    expect(d.unknownObjectId).toBe(unknownObjectId);
  });
  it('a deployment to the x86 object only does not reach x64 hardware', () => {
    const only86 = pxeSite({
      collections: [allSystems(), allUnknown({ directMemberIds: [] }), collection('PXP00C01', { directMemberIds: [KNOWN_ID] }), collection('PXP00C86', { directMemberIds: [X86_UNKNOWN_ID] })],
      deployments: [deployment('PXP20020', { purpose: 'required', collection: 'PXP00C86', ts: 'PXP00T86' })],
    });
    expect(decide(only86, { mac: MAC_OTHER, smbiosGuid: null, code: 7 }).reasonCode).toBe('no-deployment');
    expect(decide(only86, { mac: MAC_OTHER, smbiosGuid: null, code: 0 }).reasonCode).toBe('required');
  });
});

describe('rules 67, 68, 70/71: required boots without a prompt, available with one, nothing aborts or is ignored', () => {
  it.each([
    ['required only', [REQUIRED], 'boot', 'required', 'PXP20002'],
    ['available only', [AVAILABLE], 'boot-with-prompt', 'available', 'PXP20001'],
    ['required and available: no prompt', [AVAILABLE, REQUIRED], 'boot', 'required', 'PXP20002'],
  ] as const)('%s → %s', (_, deployments, action, reasonCode, deploymentId) => {
    const d = decide(pxeSite({ deployments: [...deployments] }));
    expect(d).toMatchObject({ action, reasonCode, deploymentId });
    expect(d.deploymentIds).toEqual(expect.arrayContaining(deployments.map((x) => x.id)));
  });
  it('the prompt names F12 on BIOS and Enter on UEFI (rule 68)', () => {
    expect(decide(pxeSite({ deployments: [AVAILABLE] }), { code: 7 }).reason).toMatch(/presses Enter/);
    expect(decide(pxeSite({ deployments: [deployment('PXP20001', { ts: 'PXP00T86' })] }), { code: 0 }).reason).toMatch(/presses F12/);
  });
  it.each([
    ['ignore', 'ignore', null],
    ['abort', 'abort', 'boot/x64/snponly.efi'],
  ] as const)('nothing applies, whenNothingApplies=%s', (when, action, bootFile) => {
    const d = decide(pxeSite({ deployments: [] }), {}, { whenNothingApplies: when });
    expect(d).toMatchObject({ action, reasonCode: 'no-deployment', bootFile, deploymentId: null, bootImageId: null });
  });
  it('several required: the highest deployment id boots (rule 78 ordering)', () => {
    const d = decide(pxeSite({ deployments: [deployment('PXP20003', { purpose: 'required' }), REQUIRED] }));
    expect(d.deploymentId).toBe('PXP20003');
  });
});

describe('rule 40: a required PXE deployment is delivered once', () => {
  const delivered = (deployments = [REQUIRED]) => pxeSite({
    devices: [device(KNOWN_ID, { macs: [MAC_KNOWN], pxe: { lastPxeDeploymentId: 'PXP20002', lastPxeDeploymentTime: '2026-11-20T00:00:00.000Z' } }), unknownObject('x86'), unknownObject('x64')],
    deployments,
  });
  it('already ran, nothing available → required-already-ran', () => {
    expect(decide(delivered(), {}, { whenNothingApplies: 'abort' })).toMatchObject({ action: 'abort', reasonCode: 'required-already-ran' });
    expect(decide(delivered()).reason).toMatch(/Clear Required PXE Deployments/);
  });
  it('already ran, something available → prompt for it', () => {
    expect(decide(delivered([REQUIRED, AVAILABLE]))).toMatchObject({ action: 'boot-with-prompt', deploymentId: 'PXP20001' });
  });
  it('cleared marker → required again', () => {
    expect(decide(pxeSite({ deployments: [REQUIRED] })).action).toBe('boot');
  });
  it('another required deployment than the marker still boots', () => {
    expect(decide(delivered([REQUIRED, deployment('PXP20005', { purpose: 'required' })]))).toMatchObject({ action: 'boot', deploymentId: 'PXP20005' });
  });
});

describe('rule 19/23: what PXE may offer', () => {
  it.each([
    ['clients-only', 'no-deployment'],
    ['clients-media-pxe', 'required'],
    ['media-pxe', 'required'],
    ['media-pxe-hidden', 'no-deployment'],
  ] as const)('required deployment available to %s → %s', (availableTo, reasonCode) => {
    expect(decide(pxeSite({ deployments: [deployment('PXP20002', { purpose: 'required', availableTo })] })).reasonCode).toBe(reasonCode);
  });
  it('a hidden deployment named by SMSTSPreferredAdvertID (collection variable) boots', () => {
    const snap = pxeSite({
      collections: [allSystems(), allUnknown(), collection('PXP00C01', { directMemberIds: [KNOWN_ID], variables: [{ name: 'SMSTSPreferredAdvertID', value: 'PXP20002' }] })],
      deployments: [deployment('PXP20002', { purpose: 'required', availableTo: 'media-pxe-hidden' })],
    });
    expect(decide(snap)).toMatchObject({ action: 'boot', deploymentId: 'PXP20002' });
  });
  it('the reason lists what was left out (the first 10)', () => {
    expect(decide(pxeSite({ deployments: [deployment('PXP20002', { availableTo: 'clients-only' })] })).reason).toMatch(/PXP20002 clients-only/);
    const many = Array.from({ length: 25 }, (_, i) => deployment(`PXP2${String(i).padStart(4, '0')}`, { availableTo: 'clients-only' }));
    const reason = decide(pxeSite({ deployments: many })).reason;
    expect(reason).toMatch(/PXP20009 clients-only, and 15 more\)/);
    expect(reason).not.toContain('PXP20010');
  });
});

describe('rule 75: boot images must be enabled for PXE', () => {
  it('a boot image without "Deploy from PXE" is never chosen', () => {
    const snap = pxeSite({ deployments: [REQUIRED], bootImages: [bootImage('PXP00B01', { deployFromPxe: false }), bootImage('PXP00B86', { architecture: 'x86' })] });
    const d = decide(snap, {}, { whenNothingApplies: 'abort' });
    expect(d).toMatchObject({ action: 'abort', reasonCode: 'no-boot-image', bootImageId: null });
    expect(d.reason).toMatch(/rule 75/);
  });
  it('a task sequence without a boot image gives no boot image', () => {
    const snap = pxeSite({ deployments: [REQUIRED], taskSequences: [taskSequence('PXP00T01', { bootImageId: null })] });
    expect(decide(snap).reasonCode).toBe('no-boot-image');
  });
});

describe('rules 76/77: BIOS needs an x86 boot image', () => {
  const x64Only = pxeSite({ deployments: [REQUIRED], bootImages: [bootImage('PXP00B01')] });
  it('BIOS client, only an x64 image, CPU width unknown → no boot image, says why', () => {
    const d = decide(x64Only, { code: 0, mac: MAC_OTHER, smbiosGuid: null }, { unknownComputerSupport: true });
    expect(d.reasonCode).toBe('no-deployment'); // unknown machine: the deployment goes to a known collection
    const known = decide(pxeSite({
      deployments: [REQUIRED], bootImages: [bootImage('PXP00B01')],
      devices: [device(KNOWN_ID, { macs: [MAC_KNOWN], architecture: 'x86' }), unknownObject('x86'), unknownObject('x64')],
    }), { code: 0 });
    expect(known).toMatchObject({ reasonCode: 'no-boot-image' });
    expect(known.reason).toMatch(/rules 76–77/);
  });
  it('BIOS client known to be x64-capable (its record, or iPXE\'s cpuid) may use the x64 image', () => {
    expect(decide(x64Only, { code: 0 })).toMatchObject({ action: 'boot', bootImageId: 'PXP00B01' }); // record says x64
    expect(decide(pxeSite({
      deployments: [REQUIRED], bootImages: [bootImage('PXP00B01')],
      devices: [device(KNOWN_ID, { macs: [MAC_KNOWN], architecture: 'x86' }), unknownObject('x86'), unknownObject('x64')],
    }), { code: 0, x64Capable: true }).bootImageId).toBe('PXP00B01');
  });
});

describe('rule 78: ties go to the highest deployment ID by string comparison', () => {
  it('a higher site code beats a newer deployment', () => {
    const snap = pxeSite({
      taskSequences: [taskSequence('PXP00T01', { bootImageId: 'AAA00B01' }), taskSequence('PXP00T02', { bootImageId: 'ZZZ00B01' })],
      bootImages: [bootImage('AAA00B01'), bootImage('ZZZ00B01')],
      deployments: [deployment('AAA20099', { ts: 'PXP00T01' }), deployment('ZZZ20001', { ts: 'PXP00T02' })],
    });
    expect(decide(snap)).toMatchObject({ bootImageId: 'ZZZ00B01', bootImageDeploymentId: 'ZZZ20001', deploymentId: 'ZZZ20001' });
  });
  it('the boot image comes from the highest matching deployment even when a required one decides the action', () => {
    const snap = pxeSite({
      taskSequences: [taskSequence('PXP00T01', { bootImageId: 'PXP00B01' }), taskSequence('PXP00T02', { bootImageId: 'PXP00B02' })],
      bootImages: [bootImage('PXP00B01'), bootImage('PXP00B02')],
      deployments: [deployment('PXP20001', { ts: 'PXP00T01', purpose: 'required' }), deployment('PXP20009', { ts: 'PXP00T02' })],
    });
    expect(decide(snap)).toMatchObject({ action: 'boot', deploymentId: 'PXP20001', bootImageId: 'PXP00B02', bootImageDeploymentId: 'PXP20009' });
  });
});

describe('rule 79: exact architecture first, then compatible', () => {
  const both = pxeSite({
    deployments: [deployment('PXP20001', { ts: 'PXP00T86' }), deployment('PXP20002', { ts: 'PXP00T01' })],
  });
  it.each([
    ['x64 UEFI → x64 only', 7, undefined, 'PXP00B01'],
    ['x86 UEFI → x86 only', 6, undefined, 'PXP00B86'],
    ['BIOS, width unknown → x86', 0, false, 'PXP00B86'],
    ['x64 BIOS → x64 exact first', 0, true, 'PXP00B01'],
  ] as const)('%s', (_, code, x64Capable, bootImageId) => {
    const snap = pxeSite({
      devices: [device(KNOWN_ID, { macs: [MAC_KNOWN], architecture: 'x86' }), unknownObject('x86'), unknownObject('x64')],
      deployments: [...both.deployments.values()],
    });
    expect(decide(snap, { code, x64Capable }).bootImageId).toBe(bootImageId);
  });
  it('x64 BIOS with only an x86 image uses the compatible x86 one', () => {
    const snap = pxeSite({ deployments: [deployment('PXP20001', { ts: 'PXP00T86' })] });
    expect(decide(snap, { code: 0, x64Capable: true })).toMatchObject({ bootImageId: 'PXP00B86', bootImageArchitecture: 'x86' });
  });
  it('UEFI never takes the other architecture', () => {
    const snap = pxeSite({ deployments: [deployment('PXP20001', { ts: 'PXP00T86', purpose: 'required' })] });
    expect(decide(snap, { code: 7 }).reasonCode).toBe('no-boot-image');
  });
  it('an architecture with no boot images (ARM32) is unsupported', () => {
    expect(decide(pxeSite({ deployments: [REQUIRED] }), { code: 10 }).reasonCode).toBe('unsupported-architecture');
  });
  it('an architecture with no boot program (EBC HTTP) is unsupported', () => {
    expect(decide(pxeSite({ deployments: [REQUIRED] }), { code: 17 }).reasonCode).toBe('unsupported-architecture');
  });
});

describe('the boot file: firmware PXE → chain loader over TFTP, iPXE → script over HTTP, HTTP Boot → URL', () => {
  const snap = pxeSite({ deployments: [REQUIRED, deployment('PXP20001', { ts: 'PXP00T86' })] });
  it.each([
    ['x64 UEFI firmware', { code: 7 }, 'boot/x64/snponly.efi', false],
    ['BIOS firmware', { code: 0 }, 'boot/bios/undionly.kpxe', false],
    ['x86 UEFI firmware', { code: 6, mac: MAC_KNOWN }, 'boot/x86/snponly.efi', false],
    ['iPXE (any architecture): never the boot program again', { code: 7, isIpxe: true }, '/boot/52-54-00-77-00-10.ipxe', true],
    ['iPXE BIOS', { code: 0, isIpxe: true }, '/boot/52-54-00-77-00-10.ipxe', true],
    ['UEFI HTTP Boot', { code: 16, isHttpBoot: true }, '/boot/files/boot/x64/snponly.efi', true],
  ] as const)('%s', (_, req, bootFile, http) => {
    expect(decide(snap, req)).toMatchObject({ bootFile, http });
  });
  it('configured boot program overrides apply to firmware PXE only', () => {
    expect(decide(snap, { code: 7 }, { bootPrograms: { 7: 'boot/x64/ipxe.efi' } }).bootFile).toBe('boot/x64/ipxe.efi');
    expect(decide(snap, { code: 7, isIpxe: true }, { bootPrograms: { 7: 'boot/x64/ipxe.efi' } }).bootFile).toBe(ipxeScriptPath(MAC_KNOWN));
  });
  it('abort for an iPXE client hands out its script (which exits), not the boot program', () => {
    expect(decide(pxeSite(), { isIpxe: true }, { whenNothingApplies: 'abort' })).toMatchObject({ action: 'abort', bootFile: '/boot/52-54-00-77-00-10.ipxe', http: true });
  });
  it('bootFileFor is null where no boot program exists', () => {
    expect(bootFileFor(pxeRequest({ code: 17 }), { bootPrograms: {} })).toBeNull();
  });
});

describe('rule 50: the response delay is the listener\'s; the decision only carries it', () => {
  it('the delay never changes the answer', () => {
    const snap = pxeSite({ deployments: [REQUIRED] });
    expect(decide(snap, {}, { responseDelaySeconds: 5 })).toEqual(decide(snap, {}, { responseDelaySeconds: 0 }));
  });
  it('settings keep it, default 0 (respond immediately); nonsense is refused', () => {
    expect(pxeSettings().responseDelaySeconds).toBe(0);
    expect(pxeSettings({ responseDelaySeconds: 3 }).responseDelaySeconds).toBe(3);
    expect(() => pxeSettings({ responseDelaySeconds: -1 })).toThrow(/rule 50/);
  });
  it('defaults: responder on, unknown support off, nothing → ignore', () => {
    expect(pxeSettings()).toMatchObject({ respond: true, unknownComputerSupport: false, whenNothingApplies: 'ignore', interfaces: [] });
  });
});

describe('rule 72: SMSPXE-style reasons', () => {
  it.each([
    [[REQUIRED], /found mandatory advertisement PXP20002/],
    [[AVAILABLE], /found optional advertisement PXP20001/],
  ] as const)('%#', (deployments, text) => {
    expect(decide(pxeSite({ deployments: [...deployments] })).reason).toMatch(text);
  });
  it('an unknown machine names its unknown object', () => {
    expect(decide(pxeSite({ deployments: [UNKNOWN_AVAILABLE] }), { mac: MAC_OTHER, smbiosGuid: null }).reason)
      .toMatch(/not in the database; using x64 Unknown Computer \(2046820353\)/);
  });
});
