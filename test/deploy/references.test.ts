import { describe, expect, it } from 'vitest';
import { findInvalidReferences, referencedPackageIds } from '../../src/deploy/references.js';
import type { TaskSequence } from '../../src/site/model.js';
import { byId, lookups, osTaskSequence, pkg, scriptTaskSequence, step } from './factories.js';

describe('rule 1: findInvalidReferences', () => {
  it('finds nothing in valid task sequences', () => {
    expect(findInvalidReferences(osTaskSequence(), lookups())).toEqual([]);
    expect(findInvalidReferences(scriptTaskSequence(), lookups())).toEqual([]);
  });

  const cases: Array<[string, TaskSequence, { kind: string; stepIndex: number | null; referenceId: string | null }]> = [
    ['boot image missing', osTaskSequence({ bootImageId: 'PXP0DEAD' }), { kind: 'missing-boot-image', stepIndex: null, referenceId: 'PXP0DEAD' }],
    ['step package missing', osTaskSequence({ steps: [step({ type: 'restart' }), step({ type: 'run-command', commandLine: 'x', packageId: 'PXP0DEAD' })] }), { kind: 'missing-package', stepIndex: 1, referenceId: 'PXP0DEAD' }],
    ['apply-image without package', osTaskSequence({ steps: [step({ type: 'apply-image', packageId: null })] }), { kind: 'package-required', stepIndex: 0, referenceId: null }],
    ['download-package with blank package', osTaskSequence({ steps: [step({ type: 'download-package', packageId: '  ' })] }), { kind: 'package-required', stepIndex: 0, referenceId: null }],
    ['set-variable without name', osTaskSequence({ steps: [step({ type: 'set-variable', variableName: '' })] }), { kind: 'variable-name-required', stepIndex: 0, referenceId: null }],
    ['run-command without command', osTaskSequence({ steps: [step({ type: 'run-command' })] }), { kind: 'command-line-required', stepIndex: 0, referenceId: null }],
    ['unknown step type', osTaskSequence({ steps: [step({ type: 'format-disk' as never })] }), { kind: 'unknown-step-type', stepIndex: 0, referenceId: null }],
    ['disabled step still checked', osTaskSequence({ steps: [step({ type: 'apply-image', packageId: 'PXP0DEAD', disabled: true })] }), { kind: 'missing-package', stepIndex: 0, referenceId: 'PXP0DEAD' }],
  ];
  it.each(cases)('%s', (_l, ts, expected) => {
    const problems = findInvalidReferences(ts, lookups());
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject(expected);
    expect(problems[0]!.message.length).toBeGreaterThan(20);
  });

  it('names the step by number and name in the message', () => {
    const ts = osTaskSequence({ steps: [step({ type: 'restart' }), step({ name: 'Apply Windows', type: 'apply-image' })] });
    expect(findInvalidReferences(ts, lookups())[0]!.message).toContain('step 2 "Apply Windows"');
  });

  it('finds a missing dependency of a referenced package', () => {
    const packages = byId(pkg('PXP00020', { dependencyIds: ['PXP0DEAD'] }), pkg('PXP00021'));
    expect(findInvalidReferences(osTaskSequence(), { ...lookups(), packages })).toMatchObject([{ kind: 'missing-dependency', referenceId: 'PXP0DEAD' }]);
  });

  it('reports every problem, not just the first', () => {
    const ts = osTaskSequence({ bootImageId: 'PXP0DEAD', steps: [step({ type: 'apply-image' }), step({ type: 'set-variable' })] });
    expect(findInvalidReferences(ts, lookups()).map((p) => p.kind)).toEqual(['missing-boot-image', 'package-required', 'variable-name-required']);
  });

  it('lists referenced packages once, in step order', () => {
    expect(referencedPackageIds(scriptTaskSequence())).toEqual(['PXP00030']);
    expect(referencedPackageIds(osTaskSequence())).toEqual(['PXP00020', 'PXP00021']);
  });
});
