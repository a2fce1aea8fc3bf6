/** The wimboot loader in the per-machine iPXE script (src/winpe/wimboot.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootSessions, type BootSession } from '../../src/pxe/boot-sessions.js';
import { chainLoader, renderIpxeScript } from '../../src/pxe/ipxe-script.js';
import { PXEPOINT_START_CMD, WINPESHL_INI, writeStartupFiles } from '../../src/winpe/startup.js';
import { WIMBOOT_MISSING_HINT, wimbootFiles, wimbootLoader } from '../../src/winpe/wimboot.js';
import { renderVariablesFile } from '../../src/pxe/variables-file.js';
import { parseVariablesFile, PXE_VARS } from '../../src/client/identity.js';
import { bootImage, decide, deployment, pxeRequest, pxeSite } from '../pxe/helpers.js';

const BASE = 'http://10.77.0.2:8080';
const VARS = `${'W'.repeat(43)}.json`;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-wimboot-'));
  for (const f of ['boot/wimboot', 'boot/x64/bootmgfw.efi', 'boot/x86/bootmgr.exe', 'boot/boot.sdi']) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
  await writeStartupFiles(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function session(code: number, architecture: 'x64' | 'x86'): BootSession {
  const images = [bootImage('PXP00B01', { architecture: 'x64' }), bootImage('PXP00B86', { architecture: 'x86' })];
  const snap = pxeSite({ deployments: [deployment('PXP20002', { purpose: 'required', ...(architecture === 'x86' ? { ts: 'PXP00T86' } : {}) })], bootImages: images });
  const request = pxeRequest({ isIpxe: true, clientIp: '10.77.0.50', code });
  const decision = decide(snap, { isIpxe: true, clientIp: '10.77.0.50', code }, { whenNothingApplies: 'abort' });
  return new BootSessions().put({
    mac: request.mac, smbiosGuid: request.smbiosGuid, clientIp: request.clientIp, request, decision,
    token: { token: 'pxpbt_SECRET', id: 'tok-1', expiresAt: '2026-11-26T13:00:00.000Z' }, variablesName: VARS,
  });
}

describe('wimboot loader', () => {
  it('UEFI x64: kernel wimboot, bootmgfw.efi, the UEFI BCD, boot.sdi, boot.wim and the injected start-up files, after the variables file', () => {
    const s = session(7, 'x64');
    const id = s.decision.bootImageId!;
    const script = renderIpxeScript(s, { baseUrl: BASE, loaders: [chainLoader, wimbootLoader({ root })] });
    const f = `${BASE}/boot/files`;
    const tail = script.slice(script.indexOf('imgfetch --name variables.json'));
    expect(tail).toContain([
      `kernel ${f}/boot/wimboot gui`,
      `initrd -n bootmgfw.efi ${f}/boot/${s.decision.bootImageArchitecture}/bootmgfw.efi bootmgfw.efi`,
      `initrd -n BCD ${f}/images/${id}/BCD-uefi BCD`,
      `initrd -n boot.sdi ${f}/boot/boot.sdi boot.sdi`,
      `initrd -n boot.wim ${f}/images/${id}/boot.wim boot.wim`,
      `initrd -n winpeshl.ini ${f}/boot/winpe/winpeshl.ini winpeshl.ini`,
      `initrd -n pxepoint-start.cmd ${f}/boot/winpe/pxepoint-start.cmd pxepoint-start.cmd`,
      'boot',
    ].join('\n'));
    // The variables file is fetched (as variables.json) before wimboot starts, so wimboot injects it.
    expect(script.indexOf(`imgfetch --name variables.json ${BASE}/boot/vars/${VARS}`)).toBeLessThan(script.indexOf('kernel '));
    expect(script).not.toContain('cannot be booted');
  });

  it('BIOS: bootmgr.exe and the BIOS BCD; an injected agent when the administrator provides one', () => {
    fs.mkdirSync(path.join(root, 'boot/winpe'), { recursive: true });
    fs.writeFileSync(path.join(root, 'boot/winpe/pxepoint-agent.cmd'), '@echo agent\r\n');
    try {
      const files = wimbootFiles(root, 'PXP00B86', 'images/PXP00B86/boot.wim', 'x86', 'bios');
      expect(files).toEqual(['boot/wimboot', 'boot/x86/bootmgr.exe', 'images/PXP00B86/BCD-bios', 'boot/boot.sdi', 'images/PXP00B86/boot.wim', 'boot/winpe/winpeshl.ini', 'boot/winpe/pxepoint-start.cmd', 'boot/winpe/pxepoint-agent.cmd']);
    } finally {
      fs.rmSync(path.join(root, 'boot/winpe/pxepoint-agent.cmd'));
    }
    // No bootmgr.exe for x64 under boot/x64: wimboot takes it from the WIM, the line is left out.
    expect(wimbootFiles(root, 'PXP00B01', 'images/PXP00B01/boot.wim', 'x64', 'bios')).not.toContain('boot/x64/bootmgr.exe');
  });

  it('without wimboot: no wimboot lines, the script says WinPE needs wimboot, and the hint says where to get it', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-nowimboot-'));
    try {
      const hints: string[] = [];
      const script = renderIpxeScript(session(7, 'x64'), { baseUrl: BASE, loaders: [chainLoader, wimbootLoader({ root: empty, onMissing: (h) => hints.push(h) })] });
      expect(script).toContain('WinPE needs wimboot');
      expect(script).not.toContain('kernel ');
      expect(hints).toEqual([WIMBOOT_MISSING_HINT]);
      expect(WIMBOOT_MISSING_HINT).toMatch(/github\.com\/ipxe\/wimboot.*<tftpRoot>\/boot\/wimboot/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('the file injected as variables.json carries the machine\'s identity and its one-time boot token', () => {
    const s = session(7, 'x64');
    const vars = parseVariablesFile(renderVariablesFile(s, { siteUrl: BASE }));
    const byName = new Map(vars.map((v) => [v.name, v.value]));
    expect(byName.get(PXE_VARS.clientMac)).toBe(s.mac);
    expect(byName.get(PXE_VARS.smbiosGuid)).toBe(s.smbiosGuid);
    expect(byName.get(PXE_VARS.bootToken)).toBe('pxpbt_SECRET');
    expect(byName.get(PXE_VARS.siteUrl)).toBe(BASE);
  });

  it('leaves non-WIM images to other loaders', () => {
    expect(wimbootLoader({ root })({ path: 'images/x/hello.efi', url: 'u', bootImageId: 'x' })).toBeNull();
  });

  it('start-up files: winpeshl.ini runs wpeinit then pxepoint-start.cmd, which hands variables.json to the agent (CRLF)', () => {
    expect(WINPESHL_INI).toBe('[LaunchApps]\r\n%SYSTEMROOT%\\System32\\wpeinit.exe\r\n%SYSTEMROOT%\\System32\\cmd.exe, /c %SYSTEMROOT%\\System32\\pxepoint-start.cmd\r\n');
    expect(PXEPOINT_START_CMD).toContain('set PXP_VARS=%SYSTEMROOT%\\System32\\variables.json\r\n');
    expect(PXEPOINT_START_CMD).toContain('X:\\sms\\data\\variables.json');
    expect(PXEPOINT_START_CMD.replace(/\r\n/g, '')).not.toContain('\n');
  });
});
