import { existsSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonSandbox } from '../../src/workspace/sandbox/sandbox.js';
import { createWorkspace, type Workspace } from '../../src/workspace/workspace.js';
import { tempDirectory, warnIfSkipped } from './support.js';

const skip = warnIfSkipped('sandbox-escapes.test.ts');

/**
 * Each attempt prints `name: refused EPERM` or `name: ALLOWED ...`. The numbers of calls without a
 * libc wrapper are written here independently of the server's own table.
 */
const ESCAPE_ATTEMPTS = String.raw`
import ctypes, errno, os, platform, socket, subprocess
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {
    'x86_64': dict(clone=56, keyctl=250, bpf=321, perf_event_open=298, userfaultfd=323, process_vm_readv=310, io_uring_setup=425, fsopen=430, open_tree=428, setns=308, add_key=248),
    'aarch64': dict(clone=220, keyctl=219, bpf=280, perf_event_open=241, userfaultfd=282, process_vm_readv=270, io_uring_setup=425, fsopen=430, open_tree=428, setns=268, add_key=217),
}[platform.machine()]

def report(name, result):
    err = ctypes.get_errno()
    if result == -1 and err == errno.EPERM:
        print(name + ': refused EPERM')
    else:
        print(name + ': ALLOWED result=%r errno=%s' % (result, errno.errorcode.get(err, err)))

def sys_call(name, *args):
    ctypes.set_errno(0)
    return libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])

CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, SIGCHLD = 0x10000000, 0x00020000, 0x40000000, 17
ctypes.set_errno(0); report('unshare user+mount+net', libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET))
ctypes.set_errno(0); report('unshare user', libc.unshare(CLONE_NEWUSER))
pid = sys_call('clone', CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
if pid == 0:
    os._exit(0)
if pid > 0:
    os.waitpid(pid, 0)
report('clone with CLONE_NEWUSER', pid)
fd = os.open('/proc/self/ns/net', os.O_RDONLY)
report('setns', sys_call('setns', fd, 0))
ctypes.set_errno(0); report('mount tmpfs', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))
ctypes.set_errno(0); report('umount2', libc.umount2(b'/workspace/input', 2))
report('fsopen', sys_call('fsopen', ctypes.addressof(ctypes.create_string_buffer(b'tmpfs')), 0))
report('open_tree', sys_call('open_tree', -100, ctypes.addressof(ctypes.create_string_buffer(b'/tmp')), 1))
libc.ptrace.restype = ctypes.c_long
ctypes.set_errno(0); report('ptrace TRACEME', libc.ptrace(0, 0, None, None))
buf = ctypes.create_string_buffer(8)
iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
report('process_vm_readv', sys_call('process_vm_readv', os.getpid(), ctypes.addressof(iov), 1, ctypes.addressof(iov), 1, 0))
report('keyctl join session keyring', sys_call('keyctl', 1, 0))
report('add_key', sys_call('add_key', ctypes.addressof(ctypes.create_string_buffer(b'user')), ctypes.addressof(ctypes.create_string_buffer(b'k')), ctypes.addressof(buf), 1, -3))
attr = ctypes.create_string_buffer(128)
report('bpf map create', sys_call('bpf', 0, ctypes.addressof(attr), 128))
pattr = ctypes.create_string_buffer(128)
ctypes.c_uint32.from_buffer(pattr, 0).value = 1    # PERF_TYPE_SOFTWARE
ctypes.c_uint32.from_buffer(pattr, 4).value = 128  # size
report('perf_event_open', sys_call('perf_event_open', ctypes.addressof(pattr), 0, -1, -1, 0))
report('userfaultfd', sys_call('userfaultfd', 1))
params = ctypes.create_string_buffer(120)
report('io_uring_setup', sys_call('io_uring_setup', 4, ctypes.addressof(params)))
libc.personality.restype = ctypes.c_int
ctypes.set_errno(0); report('personality ADDR_NO_RANDOMIZE', libc.personality(0x0040000))
run = subprocess.run(['unshare', '-Urnm', 'id', '-u'], capture_output=True, text=True)
print('unshare -Urnm: ' + ('refused' if run.returncode != 0 else 'ALLOWED uid ' + run.stdout.strip()))
`;

const ATTEMPT_NAMES = [
  'unshare user+mount+net',
  'unshare user',
  'clone with CLONE_NEWUSER',
  'setns',
  'mount tmpfs',
  'umount2',
  'fsopen',
  'open_tree',
  'ptrace TRACEME',
  'process_vm_readv',
  'keyctl join session keyring',
  'add_key',
  'bpf map create',
  'perf_event_open',
  'userfaultfd',
  'io_uring_setup',
  'personality ADDR_NO_RANDOMIZE',
];

describe('the Python sandbox against escape attempts', () => {
  let dir: string;
  let workspace: Workspace;
  let sandbox: PythonSandbox;
  let counter = 0;
  const newRoot = async () => workspace.create(`chat_${(++counter).toString(16).padStart(12, '0')}`);

  beforeAll(() => {
    dir = tempDirectory('pulp-sandbox-escapes-');
    workspace = createWorkspace(path.join(dir, 'data'));
    sandbox = new PythonSandbox({ defaultTimeoutMs: 30_000 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)('refuses nested namespaces, mounts, ptrace, keyrings, bpf, perf, userfaultfd and io_uring with EPERM', async () => {
    const result = await sandbox.run(ESCAPE_ATTEMPTS, { root: await newRoot() });
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([...ATTEMPT_NAMES.map((name) => `${name}: refused EPERM`), 'unshare -Urnm: refused']);
  });

  it.skipIf(skip)('kills a process that makes x32 system calls', async () => {
    const code = [
      'import subprocess, sys, platform',
      'if platform.machine() != "x86_64":',
      '    print("killed by signal 31")',
      'else:',
      '    child = "import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39); print(\'SURVIVED\')"',
      '    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)',
      '    print("killed by signal", -done.returncode, done.stdout.strip())',
    ].join('\n');
    const result = await sandbox.run(code, { root: await newRoot() });
    expect(result.stdout.trim()).toBe('killed by signal 31');
  });

  it.skipIf(skip)('still runs threads, subprocesses, fork and the personality query', async () => {
    const code = [
      'import os, subprocess, threading, ctypes',
      'seen = []',
      't = threading.Thread(target=lambda: seen.append("thread")); t.start(); t.join()',
      'seen.append(subprocess.run(["echo", "subprocess"], capture_output=True, text=True).stdout.strip())',
      'pid = os.fork()',
      'if pid == 0:',
      '    os._exit(7)',
      'seen.append("fork exit %d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
      'seen.append("personality %d" % ctypes.CDLL(None).personality(0xffffffff))',
      'print(", ".join(seen))',
    ].join('\n');
    const result = await sandbox.run(code, { root: await newRoot() });
    expect(result).toMatchObject({ success: true, stderr: '' });
    expect(result.stdout.trim()).toBe('thread, subprocess, fork exit 7, personality 0');
  });

  it.skipIf(skip)('runs the code as an unprivileged uid without capabilities, and the server can read and delete what it wrote', async () => {
    const root = await newRoot();
    const code = [
      'import os',
      'caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm", "NoNewPrivs", "Seccomp:"))]',
      'print(os.getuid(), os.geteuid(), os.getgid(), os.getegid(), " ".join(caps))',
      'os.makedirs("output/sub")',
      'open("output/sub/made.txt", "w").write("made")',
      'os.chmod("output/sub/made.txt", 0o000)',
      'os.chmod("output/sub", 0o500)',
    ].join('\n');
    const result = await sandbox.run(code, { root });
    const [uid, euid, gid, egid, capEff, capPrm, noNewPrivs, seccomp] = result.stdout.trim().split(' ');
    for (const id of [uid, euid, gid, egid]) expect(Number(id)).not.toBe(0);
    expect([capEff, capPrm, noNewPrivs, seccomp]).toEqual(['0000000000000000', '0000000000000000', '1', '2']);
    const made = path.join(root, 'output', 'sub', 'made.txt');
    if (process.getuid?.() === 0) {
      // As root the server gets the files back, whatever modes the code left on them.
      expect(statSync(made).uid).toBe(0);
    }
    expect(existsSync(made)).toBe(true);
    unlinkSync(made);
    expect(readdirSync(path.join(root, 'output', 'sub'))).toEqual([]);
  });
});
