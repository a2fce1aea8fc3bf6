import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskSequenceEnvironment } from '../../src/client/environment.js';
import { identifyRequest, identityFromFlags, identityFromVariablesFile, parseVariablesFile } from '../../src/client/identity.js';
import { tempDir } from './helpers.js';

describe('task sequence environment (rule 113)', () => {
  it('is case-insensitive, later loads win, run-time sets are reported', () => {
    const env = new TaskSequenceEnvironment();
    env.load([{ name: 'OSDTimeZone', value: 'UTC' }, { name: 'Role', value: 'collection' }]);
    env.load([{ name: 'role', value: 'device' }]);
    expect(env.get('ROLE')).toBe('device');
    env.set('OSDComputerName', 'PC-1');
    expect(env.runTimeVariables()).toEqual([{ name: 'OSDComputerName', value: 'PC-1' }]);
  });

  it('refuses read-only, malformed and overlong names and values', () => {
    const env = new TaskSequenceEnvironment();
    expect(() => env.set('_SMSTSAdvertID', 'x')).toThrow(/read-only/);
    expect(() => env.set('1abc', 'x')).toThrow(/start with a letter/);
    expect(() => env.set('bad name', 'x')).toThrow(/not a variable name/);
    expect(() => env.set('A'.repeat(257), 'x')).toThrow(/not a variable name/);
    expect(() => env.set('Big', 'x'.repeat(4001))).toThrow(/at most 4000/);
  });

  it('keeps the whole environment within 8 KB', () => {
    const env = new TaskSequenceEnvironment();
    env.set('A', 'x'.repeat(4000));
    env.set('B', 'x'.repeat(4000));
    expect(() => env.set('C', 'x'.repeat(400))).toThrow(/at most 8192/);
    env.set('A', 'short'); // replacing frees room
    env.set('C', 'x'.repeat(400));
  });

  it('deletes a variable set to empty', () => {
    const env = new TaskSequenceEnvironment();
    env.load([{ name: 'Gone', value: 'soon' }]);
    env.set('gone', '');
    expect(env.get('Gone')).toBeUndefined();
  });
});

describe('identity', () => {
  it('from flags: normalised MACs and GUID, default x64 and pxe', () => {
    const id = identityFromFlags({ site: 'http://127.0.0.1:1', macs: ['52-54-00-77-00-10', '525400770010'], guid: '{4B1D0000-7777-4000-8000-000000000010}' });
    expect(id).toMatchObject({ macs: ['52:54:00:77:00:10'], smbiosGuid: '4b1d0000-7777-4000-8000-000000000010', architecture: 'x64', bootSource: 'pxe', credential: null });
  });

  it('needs a MAC or a GUID, a valid boot source; a media identity only from a medium (--media, issue 7)', () => {
    expect(() => identityFromFlags({ site: 'http://x' })).toThrow(/at least one MAC/);
    expect(() => identityFromFlags({ site: 'http://x', macs: ['nope'] })).toThrow(/not a MAC/);
    expect(() => identityFromFlags({ site: 'http://x', macs: ['52:54:00:00:00:01'], boot: 'floppy' })).toThrow(/--boot takes/);
    expect(() => identityFromFlags({ site: 'http://x', macs: ['52:54:00:00:00:01'], boot: 'media' })).toThrow(/give --media PATH/);
  });

  it('from a PXE variables file; the boot token is a credential, not a variable', () => {
    const dir = tempDir();
    const file = join(dir, 'vars.json');
    writeFileSync(file, JSON.stringify({
      variables: [
        { name: 'SMSTSSiteURL', value: 'http://127.0.0.1:9' },
        { name: '_SMSTSMediaType', value: 'PXE' },
        { name: '_SMSTSClientMAC', value: '52:54:00:77:00:10' },
        { name: '_PXPSMBIOSGUID', value: '4b1d0000-7777-4000-8000-000000000010' },
        { name: '_PXPArchitecture', value: 'x86' },
        { name: '_PXPBootToken', value: 'tok-123' },
        { name: 'SMSTSPreferredAdvertID', value: 'PXP20004' },
      ],
    }));
    const id = identityFromVariablesFile(file, { variables: [{ name: 'Extra', value: '1' }] });
    expect(id).toMatchObject({ siteUrl: 'http://127.0.0.1:9', macs: ['52:54:00:77:00:10'], architecture: 'x86', bootSource: 'pxe', credential: { kind: 'pxe-token', token: 'tok-123' } });
    expect(id.variables.map((v) => v.name)).not.toContain('_PXPBootToken');
    const req = identifyRequest(id);
    expect(req.pxeToken).toBe('tok-123');
    // Only user-style names go to the site: `_` names are the engine's (rule 113).
    expect(req.variables?.map((v) => v.name)).toEqual(['SMSTSSiteURL', 'SMSTSPreferredAdvertID', 'Extra']);
  });

  it('rejects a malformed variables file with a message that says the format', () => {
    expect(() => parseVariablesFile('{"vars": []}')).toThrow(/\{ "variables": \[/);
    expect(() => parseVariablesFile('not json')).toThrow(/not JSON/);
    expect(() => parseVariablesFile('{"variables":[{"name":"A"}]}')).toThrow(/variables\[0\]/);
    expect(() => identityFromVariablesFile('/nonexistent/vars.json')).toThrow(/cannot read/);
  });
});
