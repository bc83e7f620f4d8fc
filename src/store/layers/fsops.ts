// File-system operations Node lacks (mknod, mkfifo, setxattr, listxattr/getxattr), done in
// one batch per layer by a short python3 helper. When lib/sys gains native bindings
// (the C addon), this file is the one place to switch over.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SystemError } from '../../lib/errors';

export type FsOp =
  | { op: 'mknod'; path: string; kind: 'c' | 'b' | 'p'; mode: number; major: number; minor: number }
  | { op: 'setxattr'; path: string; name: string; value: string /* base64 */ };

const PY_APPLY = `
import sys, os, json, base64, stat
ops = json.load(sys.stdin)
errs = []
for op in ops:
    p = op['path']
    try:
        if op['op'] == 'mknod':
            kind = {'c': stat.S_IFCHR, 'b': stat.S_IFBLK, 'p': stat.S_IFIFO}[op['kind']]
            try:
                os.lstat(p)
                if os.path.isdir(p) and not os.path.islink(p):
                    import shutil; shutil.rmtree(p)
                else:
                    os.unlink(p)
            except FileNotFoundError:
                pass
            os.mknod(p, kind | (op['mode'] & 0o7777), os.makedev(op['major'], op['minor']))
        elif op['op'] == 'setxattr':
            os.setxattr(p, op['name'], base64.b64decode(op['value']), follow_symlinks=False)
    except OSError as e:
        errs.append({'path': p, 'op': op['op'], 'name': op.get('name'), 'errno': e.errno, 'msg': str(e)})
json.dump(errs, sys.stdout)
`;

const PY_READ = `
import sys, os, json, base64
root = sys.argv[1]
out = {}
def one(p, rel):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return
    if not names:
        return
    d = {}
    for n in names:
        try:
            d[n] = base64.b64encode(os.getxattr(p, n, follow_symlinks=False)).decode()
        except OSError:
            pass
    if d:
        out[rel] = d
one(root, '')
for dirpath, dirnames, filenames in os.walk(root):
    for n in dirnames + filenames:
        p = os.path.join(dirpath, n)
        one(p, os.path.relpath(p, root))
json.dump(out, sys.stdout)
`;

const PYTHON = process.env.BERTH_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function run(script: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ['-I', '-S', '-c', script, ...args], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new SystemError(`fs helper failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export interface FsOpError { path: string; op: string; name?: string; errno: number; msg: string }

/** Applies the ops in order; returns per-op failures (the caller decides which are fatal). */
export async function applyFsOps(ops: FsOp[]): Promise<FsOpError[]> {
  if (ops.length === 0) return [];
  return JSON.parse(await run(PY_APPLY, [], JSON.stringify(ops))) as FsOpError[];
}

/** All extended attributes under `root` (symlinks not followed): relative path ('' = root) -> name -> base64 value. */
export async function readXattrTree(root: string): Promise<Record<string, Record<string, string>>> {
  return JSON.parse(await run(PY_READ, [root], '')) as Record<string, Record<string, string>>;
}
