// crun 1.8's failures to start a process, given in runc's (Docker's) words: the docker CLI
// derives exit codes 127 and 126 from those phrases, and tests and users read them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crunInDockerTerms } from '../../src/runtime/crun';
import { runtimeMessage } from '../../src/runtime/runc';

const create = { op: 'create' as const, args: ['/etc'], cwd: '/', rootfs: '/b/rootfs', mounts: [{ destination: '/data', source: '/v/data' }] };

test('a command not found, by name and by path', () => {
  assert.equal(crunInDockerTerms('executable file `nope` not found in $PATH: No such file or directory', create),
    'unable to start container process: exec: "nope": executable file not found in $PATH');
  assert.equal(crunInDockerTerms('executable file `/bin/nope` not found in $PATH: No such file or directory', { op: 'exec' }),
    'exec failed: unable to start container process: exec: "/bin/nope": stat /bin/nope: no such file or directory');
});

test('not executable: a file (EACCES) and a directory (EPERM) are both permission denied', () => {
  assert.equal(crunInDockerTerms('open executable: Permission denied', { op: 'create', args: ['/etc/passwd'] }),
    'unable to start container process: exec: "/etc/passwd": permission denied');
  assert.equal(crunInDockerTerms('open executable: Operation not permitted', create), 'unable to start container process: exec: "/etc": permission denied');
  assert.equal(crunInDockerTerms('open executable: Operation not permitted', { op: 'exec' }), 'exec failed: unable to start container process: exec: permission denied');
});

test('a working directory that is missing or not a directory', () => {
  assert.equal(crunInDockerTerms('chdir `/nope`: No such file or directory', { op: 'exec' }),
    'exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory');
  assert.equal(crunInDockerTerms('chdir `/etc/passwd`: Not a directory', create),
    'unable to start container process: chdir to cwd ("/etc/passwd") set in config.json failed: not a directory');
});

test('a mount target names its mount (under the rootfs or inside it)', () => {
  assert.equal(crunInDockerTerms('mkdir `/data/x`: Not a directory', create), 'error mounting "/v/data" to rootfs at "/data": mkdir /data/x: not a directory');
  assert.equal(crunInDockerTerms('open `/b/rootfs/data`: Not a directory', create), 'error mounting "/v/data" to rootfs at "/data": open /b/rootfs/data: not a directory');
  assert.equal(crunInDockerTerms('mkdir `/database`: Not a directory', create), 'mkdir `/database`: Not a directory');
});

test('runc\'s texts and anything else pass unchanged; runtimeMessage translates only with a context', () => {
  const runc = 'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH';
  assert.equal(crunInDockerTerms(runc, create), runc);
  assert.equal(crunInDockerTerms('cgroups in hybrid mode not supported, drop all controllers from cgroupv2', create), 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2');
  const stderr = 'executable file `x` not found in $PATH: No such file or directory\n';
  assert.equal(runtimeMessage(stderr), 'executable file `x` not found in $PATH: No such file or directory');
  assert.equal(runtimeMessage(stderr, { op: 'exec' }), 'exec failed: unable to start container process: exec: "x": executable file not found in $PATH');
});
