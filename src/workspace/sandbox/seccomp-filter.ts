/**
 * The sandbox's seccomp filter: a classic BPF program, given to bwrap with `--seccomp FD`, that the
 * kernel runs on every system call the sandboxed code makes. It refuses the calls that reach
 * kernel attack surface an interpreter never needs — nested namespaces, mounts, tracing other
 * processes, kernel keyrings, eBPF, perf, userfaultfd, io_uring, modules, kexec, swap, reboot,
 * clock changes, raw port I/O — with EPERM, and kills the process on a foreign architecture or
 * on x32 system calls (a second table of numbers the checks below would not see).
 *
 * The program, in order:
 * 1. load `seccomp_data.arch`; anything but this host's architecture → kill the process;
 * 2. load `seccomp_data.nr`; on x86_64, numbers with the x32 bit (0x40000000) → kill;
 * 3. each refused number → EPERM;
 * 4. `clone3` → ENOSYS: its flags live in user memory the filter cannot read, and libc then
 *    falls back to `clone`, whose flags are a register;
 * 5. `clone` with any namespace flag → EPERM (threads and fork still work);
 * 6. `personality` with anything but the harmless personas (or the query) → EPERM, so the code
 *    cannot turn address-space randomization off;
 * 7. everything else → allow.
 */
import { SYSCALL_NUMBERS, type SandboxArch, type SyscallName } from './syscall-numbers.js';

/** The system calls refused with EPERM (when they exist on the architecture). */
export const REFUSED_SYSCALLS: readonly SyscallName[] = [
  // Namespaces and mounts: no nested sandbox, no new view of the file system.
  'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'chroot', 'mount_setattr',
  'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree',
  // Other processes' memory and state.
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd',
  // Kernel subsystems with a long history of privilege escalations.
  'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'fanotify_init', 'open_by_handle_at',
  // The machine itself: modules, kexec, swap, reboot, clocks, accounting, logs, quotas, ports.
  'init_module', 'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms',
  'kexec_load', 'kexec_file_load', 'swapon', 'swapoff', 'reboot', 'acct', 'syslog', 'vhangup',
  'quotactl', 'quotactl_fd', 'nfsservctl', 'lookup_dcookie', 'settimeofday', 'clock_settime',
  'clock_adjtime', 'adjtimex', 'iopl', 'ioperm', 'modify_ldt', 'uselib', 'ustat', 'sysfs', '_sysctl',
];

/** Every CLONE_NEW* flag `clone` accepts (CLONE_NEWTIME shares its bit with the exit signal there). */
export const CLONE_NAMESPACE_FLAGS =
  0x0002_0000 /* NEWNS */ | 0x0200_0000 /* NEWCGROUP */ | 0x0400_0000 /* NEWUTS */ | 0x0800_0000 /* NEWIPC */ |
  0x1000_0000 /* NEWUSER */ | 0x2000_0000 /* NEWPID */ | 0x4000_0000 /* NEWNET */;

/** `personality` arguments allowed: PER_LINUX, PER_LINUX32, UNAME26 with either, and the query. */
export const ALLOWED_PERSONALITIES = [0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff] as const;

const AUDIT_ARCH: Record<SandboxArch, number> = { x86_64: 0xc000_003e, aarch64: 0xc000_00b7 };
const X32_SYSCALL_BIT = 0x4000_0000;

const EPERM = 1;
const ENOSYS = 38;
const RET_KILL_PROCESS = 0x8000_0000;
const RET_ERRNO = 0x0005_0000;
const RET_ALLOW = 0x7fff_0000;

// Classic BPF opcodes (linux/bpf_common.h): class | size | mode / op | source.
const LD_W_ABS = 0x00 | 0x00 | 0x20;
const JMP_JEQ_K = 0x05 | 0x10 | 0x00;
const JMP_JGE_K = 0x05 | 0x30 | 0x00;
const JMP_JSET_K = 0x05 | 0x40 | 0x00;
const RET_K = 0x06 | 0x00;

// Offsets into struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }.
// Both supported architectures are little-endian, so an argument's low 32 bits come first.
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
const ARG0_LOW_OFFSET = 16;

type Label = 'next' | 'allow' | 'eperm' | 'enosys' | 'kill' | 'clone' | 'personality';

interface Instruction {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  label?: Label;
}

/**
 * The filter for `arch` as the bytes of a `struct sock_filter[]` (8 bytes per instruction), ready
 * to be written to bwrap's `--seccomp` descriptor. Throws when a jump would not fit in 8 bits.
 */
export function buildSeccompFilter(arch: SandboxArch): Buffer {
  const numbers = SYSCALL_NUMBERS[arch];
  const nr = (name: SyscallName): number => {
    const found = numbers[name];
    if (found === undefined) throw new Error(`no ${name} on ${arch}`);
    return found;
  };
  const program: Instruction[] = [
    { code: LD_W_ABS, k: ARCH_OFFSET },
    { code: JMP_JEQ_K, k: AUDIT_ARCH[arch], jt: 'next', jf: 'kill' },
    { code: LD_W_ABS, k: NR_OFFSET },
  ];
  if (arch === 'x86_64') program.push({ code: JMP_JGE_K, k: X32_SYSCALL_BIT, jt: 'kill', jf: 'next' });
  for (const name of REFUSED_SYSCALLS) {
    const number = numbers[name];
    if (number !== undefined) program.push({ code: JMP_JEQ_K, k: number, jt: 'eperm', jf: 'next' });
  }
  program.push(
    { code: JMP_JEQ_K, k: nr('clone3'), jt: 'enosys', jf: 'next' },
    { code: JMP_JEQ_K, k: nr('clone'), jt: 'clone', jf: 'next' },
    { code: JMP_JEQ_K, k: nr('personality'), jt: 'personality', jf: 'allow' },
    { label: 'clone', code: LD_W_ABS, k: ARG0_LOW_OFFSET },
    { code: JMP_JSET_K, k: CLONE_NAMESPACE_FLAGS, jt: 'eperm', jf: 'allow' },
    { label: 'personality', code: LD_W_ABS, k: ARG0_LOW_OFFSET },
    ...ALLOWED_PERSONALITIES.map((value): Instruction => ({ code: JMP_JEQ_K, k: value, jt: 'allow', jf: 'next' })),
    { code: RET_K, k: RET_ERRNO | EPERM, label: 'eperm' },
    { code: RET_K, k: RET_ALLOW, label: 'allow' },
    { code: RET_K, k: RET_ERRNO | ENOSYS, label: 'enosys' },
    { code: RET_K, k: RET_KILL_PROCESS, label: 'kill' },
  );
  return assemble(program);
}

/** Resolves labels to the forward offsets classic BPF jumps take, and encodes each instruction. */
function assemble(program: Instruction[]): Buffer {
  const at = new Map<Label, number>();
  program.forEach((instruction, index) => {
    if (instruction.label) at.set(instruction.label, index);
  });
  const offset = (from: number, label: Label | undefined): number => {
    if (label === undefined || label === 'next') return 0;
    const target = at.get(label);
    if (target === undefined || target <= from) throw new Error(`seccomp filter: no forward label ${label}`);
    const jump = target - from - 1;
    if (jump > 255) throw new Error(`seccomp filter: jump to ${label} is too far (${jump})`);
    return jump;
  };
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    bytes.writeUInt16LE(instruction.code, index * 8);
    bytes.writeUInt8(offset(index, instruction.jt), index * 8 + 2);
    bytes.writeUInt8(offset(index, instruction.jf), index * 8 + 3);
    bytes.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return bytes;
}
