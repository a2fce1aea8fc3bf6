/** Registry records for the site-side media tests (test/media/media-*.test.ts, client-identify-media). */
import { createHash } from 'node:crypto';
import type { MediaRecord } from '../../src/media/types.js';

export const T0 = '2026-11-26T08:00:00.000Z';
export const MEDIA_SECRET = 'pxm_test-media-secret-0123456789';
export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A bootable medium valid for a year from T0 - 1 day; the secret is MEDIA_SECRET. */
export function mediaRecord(id: string, over: Partial<MediaRecord> = {}): MediaRecord {
  return {
    id,
    type: 'bootable',
    label: `Media ${id}`,
    architecture: 'x64',
    bootImageId: 'PXP00003',
    taskSequenceId: null,
    createdAt: T0,
    createdBy: 'cli:test',
    certificateNotBefore: '2026-11-25T08:00:00.000Z',
    certificateNotAfter: '2027-11-25T08:00:00.000Z',
    validFrom: null,
    validUntil: null,
    unattended: true,
    passwordRequired: false,
    variableNames: ['SMSTSPreferredAdvertID'],
    secretHash: sha256Hex(MEDIA_SECRET),
    blocked: false,
    blockedAt: null,
    blockedBy: null,
    imagePath: null,
    imageSha256: null,
    ...over,
  };
}

export const ADMIN = { name: 'cli:tester', component: 'cli' } as const;
