import assert from 'node:assert/strict';
import { expandEnvVars, missingEnvVars, pipInstallArgs } from '../../../src/plugins/pip-url';

describe('plugins/pip-url', () => {
  const env = { VERSION: '0.1.4', REPO: 'git+https://example.invalid/tap.git', SPACED: 'a b' };

  const cases: Array<{ label: string; pipUrl: string; expected: string[] }> = [
    { label: 'one package', pipUrl: 'target-jsonl', expected: ['target-jsonl'] },
    { label: 'two packages', pipUrl: 'pkg1 pkg2', expected: ['pkg1', 'pkg2'] },
    { label: 'editable local path', pipUrl: '-e ./plugins/tap-x', expected: ['-e', './plugins/tap-x'] },
    { label: 'repeated and surrounding spaces', pipUrl: '  a   b\tc\n', expected: ['a', 'b', 'c'] },
    { label: '$VAR', pipUrl: 'target-jsonl==$VERSION', expected: ['target-jsonl==0.1.4'] },
    { label: '${VAR}', pipUrl: '${REPO}#egg=tap pendulum', expected: [`${env.REPO}#egg=tap`, 'pendulum'] },
    { label: 'unset variable becomes empty', pipUrl: 'pkg$UNSET_X', expected: ['pkg'] },
    { label: 'argument that expands to nothing is dropped', pipUrl: 'pkg $UNSET_X', expected: ['pkg'] },
    { label: 'split happens before expansion', pipUrl: 'x$SPACED', expected: ['xa b'] },
  ];
  for (const c of cases) {
    it(`splits and expands: ${c.label}`, () => {
      assert.deepEqual(pipInstallArgs(c.pipUrl, env), c.expected);
    });
  }

  it('expands $VAR and ${VAR} and leaves other text alone', () => {
    assert.equal(expandEnvVars('a-$VERSION-${VERSION}-$-{x}', env), 'a-0.1.4-0.1.4-$-{x}');
  });

  it('lists unset variables once each', () => {
    assert.deepEqual(missingEnvVars('$A ${B} $VERSION $A', env), ['A', 'B']);
  });
});
