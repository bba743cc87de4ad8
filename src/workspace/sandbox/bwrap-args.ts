/**
 * The bubblewrap command line for one code run — the whole sandbox policy in one pure function:
 * every namespace unshared (no network), a seccomp filter, `/usr` and a few `/etc` entries read-only, `input/`
 * read-only, `output/` read-write, a private size-capped `/tmp`, the session as `/workspace` (the
 * working directory), an allow-listed environment, and rlimits on memory, processes and file size.
 *
 * Two modes. Unprivileged (the normal case): bwrap makes a user namespace and `prlimit` inside it
 * sets RLIMIT_NPROC, which the kernel then counts per namespace. As root: RLIMIT_NPROC does not
 * apply to uid 0, so bwrap runs without a user namespace and `setpriv` drops to a fresh
 * unprivileged uid for the run (the caller chowns the two folders to it and back).
 */
import { lstatSync, readlinkSync } from 'node:fs';

/** Where the session directory appears inside the sandbox. */
export const SANDBOX_WORKDIR = '/workspace';

/** Top-level system paths that are symlinks into /usr on merged-/usr systems, or real folders elsewhere. */
const TOP_LEVEL = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** What Python, numpy (BLAS via /etc/alternatives) and matplotlib (fonts) need from /etc — nothing else. */
const ETC_ENTRIES = ['alternatives', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'fonts', 'matplotlibrc', 'localtime', 'mime.types'];

export type SystemEntry = { kind: 'symlink'; path: string; target: string } | { kind: 'dir'; path: string };

/** How this host lays out its top-level system folders (read once). */
export function detectSystemLayout(): SystemEntry[] {
  const entries: SystemEntry[] = [];
  for (const p of TOP_LEVEL) {
    try {
      const stat = lstatSync(p);
      if (stat.isSymbolicLink()) entries.push({ kind: 'symlink', path: p, target: readlinkSync(p) });
      else if (stat.isDirectory()) entries.push({ kind: 'dir', path: p });
    } catch {
      // Absent here.
    }
  }
  return entries;
}

export interface BwrapPlan {
  mode: 'user' | 'root';
  /** Host paths (real) of the session's folders. */
  inputDir: string;
  outputDir: string;
  /** The uid/gid the code runs as in root mode. */
  runUid: number;
  memoryBytes: number;
  maxProcesses: number;
  maxFileBytes: number;
  tmpBytes: number;
  pythonPath: string;
  setprivPath: string;
  prlimitPath: string;
  env: Record<string, string>;
  system: SystemEntry[];
  /** The child's descriptor bwrap reads the seccomp program from (see `seccomp-filter.ts`). */
  seccompFd: number;
  /** Arguments after the interpreter (the runner script). */
  pythonArgs: string[];
}

/** The argv (without the bwrap binary itself) for one run. */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const args: string[] = [];
  if (plan.mode === 'user') {
    args.push('--unshare-all', '--unshare-user', '--cap-drop', 'ALL');
  } else {
    // Root: no user namespace, so the uid that setpriv drops to is a real one the kernel limits.
    args.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
    args.push('--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  }
  args.push('--die-with-parent', '--new-session', '--hostname', 'sandbox');
  // Applied last, just before bwrap starts the command, so bwrap itself can still set up mounts.
  args.push('--seccomp', String(plan.seccompFd));
  args.push('--ro-bind', '/usr', '/usr');
  for (const entry of plan.system) {
    if (entry.kind === 'symlink') args.push('--symlink', entry.target, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  // Folders bwrap creates implicitly are 0700; the unprivileged run needs to traverse them.
  args.push('--perms', '0755', '--dir', '/etc');
  for (const name of ETC_ENTRIES) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(plan.tmpBytes), '--tmpfs', '/tmp');
  args.push('--perms', '0755', '--dir', SANDBOX_WORKDIR);
  args.push('--ro-bind', plan.inputDir, `${SANDBOX_WORKDIR}/input`);
  args.push('--bind', plan.outputDir, `${SANDBOX_WORKDIR}/output`);
  args.push('--chdir', SANDBOX_WORKDIR, '--clearenv');
  for (const [key, value] of Object.entries(plan.env)) args.push('--setenv', key, value);
  args.push('--');
  if (plan.mode === 'root') {
    const id = String(plan.runUid);
    args.push(plan.setprivPath, `--reuid=${id}`, `--regid=${id}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--');
  }
  args.push(
    plan.prlimitPath,
    `--as=${plan.memoryBytes}`,
    `--nproc=${plan.maxProcesses}`,
    `--fsize=${plan.maxFileBytes}`,
    '--core=0',
    '--',
    plan.pythonPath,
    ...plan.pythonArgs,
  );
  return args;
}

/** The environment inside the sandbox: a fixed allow-list, plus the host's OpenBLAS CPU hints. */
export function sandboxEnv(host: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    MPLBACKEND: 'Agg',
    MPLCONFIGDIR: '/tmp/.matplotlib',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    // One BLAS thread each: two cores are shared by everything, and threads multiply memory use.
    OPENBLAS_NUM_THREADS: '1',
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
  };
  // Some CPUs need these for OpenBLAS not to crash or miscompute; they carry no secrets.
  for (const key of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) {
    const value = host[key];
    if (value) env[key] = value;
  }
  return env;
}
