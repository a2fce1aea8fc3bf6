/**
 * The start-up files wimboot injects into X:\Windows\System32 (wimboot.ts), so the
 * booted WinPE runs pxepoint's deployment agent with the per-boot variables file —
 * no change to the WIM on disk:
 *
 *   winpeshl.ini         WinPE runs its [LaunchApps] instead of startnet.cmd:
 *                        wpeinit (network), then pxepoint-start.cmd
 *   pxepoint-start.cmd   PXE: copies variables.json to X:\sms\data\ (where ConfigMgr's
 *                        TsPxe puts variables.dat, rule 87) and starts the agent with
 *                        its path. Boot media: finds the medium's drive (pxepoint\media.json)
 *                        and starts the agent with `--media <drive>:\`. The agent is
 *                        an injected pxepoint-agent.cmd (boot/winpe/ under the root)
 *                        or X:\pxepoint\agent.cmd baked into the image; without one
 *                        it says so and opens a command prompt.
 *
 * Windows reads these with CRLF line ends.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Injected start-up files under the root (the agent is optional, brought by the administrator). */
export const STARTUP_FILES = { winpeshl: 'boot/winpe/winpeshl.ini', start: 'boot/winpe/pxepoint-start.cmd', agent: 'boot/winpe/pxepoint-agent.cmd' } as const;

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

export const WINPESHL_INI = crlf([
  '[LaunchApps]',
  '%SYSTEMROOT%\\System32\\wpeinit.exe',
  '%SYSTEMROOT%\\System32\\cmd.exe, /c %SYSTEMROOT%\\System32\\pxepoint-start.cmd',
]);

export const PXEPOINT_START_CMD = crlf([
  '@echo off',
  'rem pxepoint: run by winpeshl.ini, both injected by wimboot (docs/winpe.md, docs/media.md)',
  'set PXP_VARS=%SYSTEMROOT%\\System32\\variables.json',
  'if exist "%PXP_VARS%" goto pxe',
  'if exist "%SYSTEMROOT%\\System32\\media.json" goto media',
  'echo pxepoint: no variables file at %PXP_VARS% and no media.json: this WinPE was not started by a pxepoint boot script or medium',
  'goto shell',
  ':pxe',
  'mkdir X:\\sms\\data 2>nul',
  'copy /y "%PXP_VARS%" X:\\sms\\data\\variables.json >nul',
  'set PXP_ARG=X:\\sms\\data\\variables.json',
  'goto agent',
  ':media',
  'rem Boot media: the medium is still in its drive (ConfigMgr reads SMS\\data from it, rule 98); find it.',
  'set PXP_MEDIA=',
  'for %%d in (C D E F G H I J K L M N O P Q R S T U V W Y Z) do if not defined PXP_MEDIA if exist "%%d:\\pxepoint\\media.json" set PXP_MEDIA=%%d:\\',
  'if not defined PXP_MEDIA (',
  '  echo pxepoint: started from boot media, but the medium is in no drive: put it back and run pxepoint-start.cmd again',
  '  goto shell',
  ')',
  'mkdir X:\\sms\\data 2>nul',
  'copy /y "%SYSTEMROOT%\\System32\\media.json" X:\\sms\\data\\media.json >nul',
  'copy /y "%SYSTEMROOT%\\System32\\variables.dat" X:\\sms\\data\\variables.dat >nul',
  'set PXP_ARG=--media %PXP_MEDIA%',
  ':agent',
  'if exist "%SYSTEMROOT%\\System32\\pxepoint-agent.cmd" (',
  '  call "%SYSTEMROOT%\\System32\\pxepoint-agent.cmd" %PXP_ARG%',
  '  goto end',
  ')',
  'if exist "X:\\pxepoint\\agent.cmd" (',
  '  call "X:\\pxepoint\\agent.cmd" %PXP_ARG%',
  '  goto end',
  ')',
  'echo pxepoint: no deployment agent: put pxepoint-agent.cmd in boot\\winpe\\ under the TFTP root, or X:\\pxepoint\\agent.cmd in the image',
  ':shell',
  'cmd.exe',
  ':end',
]);

/** Writes the start-up files under the root (every import; they are the same for every image). */
export async function writeStartupFiles(root: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out = [
    { path: STARTUP_FILES.winpeshl, bytes: Buffer.from(WINPESHL_INI, 'utf8') },
    { path: STARTUP_FILES.start, bytes: Buffer.from(PXEPOINT_START_CMD, 'utf8') },
  ];
  for (const f of out) {
    await fsp.mkdir(path.dirname(path.join(root, f.path)), { recursive: true });
    await fsp.writeFile(path.join(root, f.path), f.bytes);
  }
  return out;
}
