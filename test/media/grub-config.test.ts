/**
 * grub.cfg of a medium (src/media/grub-config.ts): quoting of hostile labels and
 * URLs, the unattended timeout (rule 97), the announce per site URL on UEFI and
 * none on BIOS, and wimboot's GRUB usage per firmware.
 */
import { describe, expect, it } from 'vitest';
import { announceTarget, generateGrubConfig, grubQuote, type GrubConfigInput } from '../../src/media/grub-config.js';

const ID = '3f2c1e7a-1111-4222-8333-944445555666';

const base: GrubConfigInput = {
  mediaId: ID,
  type: 'bootable',
  label: 'pxepoint',
  architecture: 'x64',
  siteUrls: ['http://10.0.2.100:8099'],
  unattended: false,
  bios: { wimboot: 'pxepoint/boot/wimboot', files: [{ name: 'bootmgr.exe', path: 'pxepoint/boot/bootmgr.exe' }, { name: 'BCD', path: 'pxepoint/boot/bcd-bios' }, { name: 'boot.sdi', path: 'pxepoint/boot/boot.sdi' }, { name: 'boot.wim', path: 'pxepoint/boot/boot.wim' }, { name: 'media.json', path: 'pxepoint/media.json' }, { name: 'variables.dat', path: 'pxepoint/variables.dat' }] },
  uefi: { wimboot: 'pxepoint/boot/wimboot', files: [{ name: 'bootmgfw.efi', path: 'pxepoint/boot/bootmgfw.efi' }, { name: 'BCD', path: 'pxepoint/boot/bcd-uefi' }, { name: 'boot.sdi', path: 'pxepoint/boot/boot.sdi' }, { name: 'boot.wim', path: 'pxepoint/boot/boot.wim' }, { name: 'media.json', path: 'pxepoint/media.json' }, { name: 'variables.dat', path: 'pxepoint/variables.dat' }] },
};

/** Splits a config into its `if [ "${grub_platform}" = "efi" ]` announce block and the rest. */
function announceBlock(cfg: string): string {
  const start = cfg.indexOf('if [ "${grub_platform}" = "efi" ]; then\n  insmod efinet');
  const end = cfg.indexOf('\nfi\n', start);
  expect(start).toBeGreaterThan(0);
  return cfg.slice(start, end);
}

/**
 * A tiny model of GRUB's word rules (single quotes literal, double quotes expand
 * ${var}, adjacent parts concatenate): enough to read back what a line means.
 */
function grubWords(line: string, vars: Record<string, string> = {}): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      if (j < 0) throw new Error(`unterminated quote in ${line}`);
      cur += line.slice(i + 1, j);
      i = j;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; line[j] !== '"'; j++) {
        if (j >= line.length) throw new Error(`unterminated double quote in ${line}`);
        if (line[j] === '\\') { cur += line[++j]; continue; }
        if (line[j] === '$' && line[j + 1] === '{') {
          const k = line.indexOf('}', j);
          cur += vars[line.slice(j + 2, k)] ?? '';
          j = k;
          continue;
        }
        cur += line[j];
      }
      i = j;
      inWord = true;
    } else if (c === '\\') {
      // Outside quotes a backslash keeps the next character literal (GRUB, like sh; checked in OVMF).
      cur += line[++i] ?? '';
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (/[;&|<>$\\{}]/.test(c)) {
      throw new Error(`unquoted special character ${c} in: ${line}`);
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

describe('grubQuote', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it'\\''s'"],
    ['$(reboot); ${x} `y` "z" \\ & | < >', `'$(reboot); \${x} \`y\` "z" \\ & | < >'`],
    ['two\nlines\r', "'two?lines?'"],
    ['', "''"],
  ])('%j → %s', (input, expected) => {
    expect(grubQuote(input)).toBe(expected);
    expect(grubWords(`echo ${expected}`)).toEqual(['echo', input.replace(/[\n\r]/g, '?')]);
  });
});

describe('announceTarget', () => {
  it.each([
    ['http://10.0.2.100:8099', { ok: true, device: '(http,10.0.2.100:8099)', path: `/boot/media/${ID}/start.cfg` }],
    ['http://site.example', { ok: true, device: '(http,site.example:80)', path: `/boot/media/${ID}/start.cfg` }],
    ['http://site.example:8080/pxe/', { ok: true, device: '(http,site.example:8080)', path: `/pxe/boot/media/${ID}/start.cfg` }],
  ])('%s', (url, expected) => expect(announceTarget(url, ID)).toEqual(expected));

  it.each([
    ['https://site.example', /plain HTTP/],
    ['ftp://site.example', /not http/],
    ['http://[fd00::1]:8080', /IPv4 address or a DNS name/],
    ['http://bad_host$(x):80', /not a URL|IPv4 address or a DNS name/],
  ])('refuses %s', (url, reason) => {
    const t = announceTarget(url, ID);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.reason).toMatch(reason);
  });
});

describe('generateGrubConfig', () => {
  it('serial and console output, the title line, a default entry', () => {
    const cfg = generateGrubConfig(base);
    expect(cfg).toContain('serial --unit=0 --speed=115200\nterminal_output console serial\nterminal_input console serial\n');
    expect(cfg).toContain(`echo 'pxepoint media ${ID} (bootable, pxepoint)'`);
    expect(cfg).toContain('set default=pxepoint');
    expect(cfg).toMatch(/^menuentry 'Start pxepoint \(pxepoint bootable media\)' --id pxepoint \{$/m);
  });

  it.each([
    [true, undefined, 0],
    [false, undefined, 5],
    [false, 12, 12],
    [true, 12, 0],
  ])('unattended %s, timeout %s → set timeout=%i (rule 97)', (unattended, timeoutSeconds, expected) => {
    const cfg = generateGrubConfig({ ...base, unattended, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) });
    expect(cfg).toMatch(new RegExp(`^set timeout=${expected}$`, 'm'));
    expect(cfg.match(/^set timeout=/gm)).toHaveLength(1);
  });

  it('announces on UEFI to every HTTP site URL in order, each only while no site has answered', () => {
    const cfg = generateGrubConfig({ ...base, siteUrls: ['http://10.0.2.100:8099', 'https://secure.example', 'http://backup.example:8080/pxp'] });
    const block = announceBlock(cfg);
    expect(block).toContain('insmod efinet\n  insmod http\n');
    expect(block).toContain('net_bootp');
    expect(block).toContain('smbios --type 1 --get-uuid 8 --set pxp_uuid');
    // The MAC after net_bootp: net_efinet<N>_dhcp_mac (GRUB 2.06; net_default_mac stays empty).
    expect(block).toContain('if [ -z "${pxp_mac}" ]; then set pxp_mac="${net_efinet0_dhcp_mac}"; fi');
    const sources = block.split('\n').filter((l) => l.trim().startsWith('source '));
    expect(sources).toHaveLength(2);
    const vars = { pxp_mac: '52:54:00:12:34:56', pxp_uuid: '4b1d0000-7777-4000-8000-000000000010', grub_cpu: 'x86_64', grub_platform: 'efi' };
    expect(grubWords(sources[0]!.trim(), vars)).toEqual(['source', `(http,10.0.2.100:8099)/boot/media/${ID}/start.cfg?mac=52:54:00:12:34:56&arch=x86_64-efi&uuid=4b1d0000-7777-4000-8000-000000000010`]);
    expect(grubWords(sources[1]!.trim(), vars)).toEqual(['source', `(http,backup.example:8080)/pxp/boot/media/${ID}/start.cfg?mac=52:54:00:12:34:56&arch=x86_64-efi&uuid=4b1d0000-7777-4000-8000-000000000010`]);
    expect(block).toContain('# https://secure.example: not announced (GRUB announces over plain HTTP only)');
    // Each announce only while no site has answered.
    const lines = block.split('\n');
    for (const s of sources) expect(lines[lines.indexOf(s) - 1]).toBe('  if [ -z "${pxp_media_state}" ]; then');
  });

  it('no announce outside the EFI block: BIOS GRUB from a CD has no network driver', () => {
    const cfg = generateGrubConfig(base);
    const block = announceBlock(cfg);
    const outside = cfg.replace(block, '');
    expect(outside).not.toMatch(/net_bootp|source |insmod efinet|insmod http/);
    expect(cfg.match(/net_bootp/g)).toHaveLength(1);
  });

  it('blocked and expired stop with a message and halt, before the menu; unknown only warns', () => {
    const cfg = generateGrubConfig(base);
    const menu = cfg.indexOf('menuentry ');
    for (const state of ['blocked', 'expired']) {
      const at = cfg.indexOf(`if [ "\${pxp_media_state}" = '${state}' ]; then`);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(menu);
      const body = cfg.slice(at, cfg.indexOf('\nfi\n', at));
      expect(body).toMatch(/sleep 30\n  halt\n/);
      expect(body).toContain('while true; do sleep 3600; done');
      expect(body).toContain('echo "${pxp_media_message}"');
    }
    const unknown = cfg.slice(cfg.indexOf('if [ "${pxp_media_state}" = "unknown" ]'), menu);
    expect(unknown).not.toMatch(/halt/);
  });

  it('starts wimboot with linux/initrd on UEFI and linux16/initrd16 on BIOS, every file as newc:NAME:/PATH', () => {
    const cfg = generateGrubConfig(base);
    const entry = cfg.slice(cfg.indexOf('menuentry '));
    const line = (cmd: string): string[] => grubWords(entry.split('\n').find((l) => l.trim().startsWith(`${cmd} `))!.trim());
    expect(line('linux')).toEqual(['linux', '/pxepoint/boot/wimboot']);
    expect(line('initrd')).toEqual(['initrd', 'newc:bootmgfw.efi:/pxepoint/boot/bootmgfw.efi', 'newc:BCD:/pxepoint/boot/bcd-uefi', 'newc:boot.sdi:/pxepoint/boot/boot.sdi', 'newc:boot.wim:/pxepoint/boot/boot.wim', 'newc:media.json:/pxepoint/media.json', 'newc:variables.dat:/pxepoint/variables.dat']);
    expect(line('linux16')).toEqual(['linux16', '/pxepoint/boot/wimboot']);
    expect(line('initrd16')).toEqual(['initrd16', 'newc:bootmgr.exe:/pxepoint/boot/bootmgr.exe', 'newc:BCD:/pxepoint/boot/bcd-bios', 'newc:boot.sdi:/pxepoint/boot/boot.sdi', 'newc:boot.wim:/pxepoint/boot/boot.wim', 'newc:media.json:/pxepoint/media.json', 'newc:variables.dat:/pxepoint/variables.dat']);
    // UEFI branch first, under the platform test.
    expect(entry.indexOf('linux \'/pxepoint')).toBeLessThan(entry.indexOf('linux16'));
  });

  it('an x86 image (BIOS only): the UEFI branch says so and halts', () => {
    const cfg = generateGrubConfig({ ...base, architecture: 'x86', uefi: null });
    const entry = cfg.slice(cfg.indexOf('menuentry '));
    expect(entry).toContain("echo 'pxepoint: this medium'\\''s x86 boot image cannot start on UEFI firmware.'");
    expect(entry).not.toMatch(/^\s+linux '/m);
    expect(entry).toMatch(/^\s+linux16 '/m);
  });

  it.each([
    ["quote ' in label"],
    ['$(poweroff); ${root} `x`'],
    ['"; halt; echo "'],
    ['line\nbreak; halt'],
    ['back\\slash \\\' mix'],
    ['menuentry x { halt }'],
  ])('a hostile label stays one word everywhere: %j', (label) => {
    const cfg = generateGrubConfig({ ...base, label });
    const shown = label.replace(/[\n\r]/g, '?');
    // Every line parses under the quoting model, and the label appears only inside quotes.
    const titleLine = cfg.split('\n').find((l) => l.startsWith('echo ') && l.includes(ID))!;
    expect(grubWords(titleLine)).toEqual(['echo', `pxepoint media ${ID} (bootable, ${shown})`]);
    const menuLine = cfg.split('\n').find((l) => l.startsWith('menuentry '))!;
    expect(grubWords(menuLine.replace(/ \{$/, ''))).toEqual(['menuentry', `Start ${shown} (pxepoint bootable media)`, '--id', 'pxepoint']);
    // Nothing but the expected commands at the top level.
    const commands = new Set(cfg.split('\n').map((l) => l.trim().split(' ')[0]).filter((w): w is string => w !== undefined && w !== '' && !w.startsWith('#')));
    expect([...commands].sort()).toEqual(['echo', 'fi', 'halt', 'if', 'initrd', 'initrd16', 'insmod', 'linux', 'linux16', 'menuentry', 'net_bootp', 'serial', 'set', 'sleep', 'smbios', 'source', 'terminal_input', 'terminal_output', 'while', 'else', '}'].sort());
  });

  it('a hostile site URL never reaches the script unquoted', () => {
    const cfg = generateGrubConfig({ ...base, siteUrls: ["http://a.example:80/x';halt;'", 'http://b.example/$(x)'] });
    const sources = cfg.split('\n').filter((l) => l.trim().startsWith('source '));
    expect(sources).toHaveLength(2);
    const vars = { pxp_mac: 'M', pxp_uuid: 'U', grub_cpu: 'x86_64', grub_platform: 'efi' };
    expect(grubWords(sources[0]!.trim(), vars)).toEqual(['source', `(http,a.example:80)/x';halt;'/boot/media/${ID}/start.cfg?mac=M&arch=x86_64-efi&uuid=U`]);
    expect(grubWords(sources[1]!.trim(), vars)).toEqual(['source', `(http,b.example:80)/$(x)/boot/media/${ID}/start.cfg?mac=M&arch=x86_64-efi&uuid=U`]);
  });
});
