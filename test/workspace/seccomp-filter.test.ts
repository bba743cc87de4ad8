import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALLOWED_PERSONALITIES, buildSeccompFilter, CLONE_NAMESPACE_FLAGS, REFUSED_SYSCALLS } from '../../src/workspace/sandbox/seccomp-filter.js';
import { hostSandboxArch, SYSCALL_NUMBERS, type SandboxArch } from '../../src/workspace/sandbox/syscall-numbers.js';

const HEADERS: Record<SandboxArch, { file: string; prefix: RegExp }> = {
  x86_64: { file: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h', prefix: /^#define __NR_(\w+)\s+(\d+)$/ },
  aarch64: { file: '/usr/include/asm-generic/unistd.h', prefix: /^#define __NR(?:3264)?_(\w+)\s+(\d+)$/ },
};

function headerNumbers(arch: SandboxArch): Map<string, number> | undefined {
  const { file, prefix } = HEADERS[arch];
  if (!existsSync(file)) return undefined;
  const numbers = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = prefix.exec(line.trim());
    if (match) numbers.set(match[1]!, Number(match[2]));
  }
  return numbers;
}

interface Decoded {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(program: Buffer): Decoded[] {
  const out: Decoded[] = [];
  for (let at = 0; at < program.length; at += 8) {
    out.push({ code: program.readUInt16LE(at), jt: program.readUInt8(at + 2), jf: program.readUInt8(at + 3), k: program.readUInt32LE(at + 4) });
  }
  return out;
}

/** A classic BPF interpreter for the few instructions the filter uses, over one seccomp_data. */
function verdict(program: Buffer, data: { arch: number; nr: number; arg0?: number }): number {
  const code = decode(program);
  let acc = 0;
  for (let pc = 0; pc < code.length; pc++) {
    const { code: op, jt, jf, k } = code[pc]!;
    if (op === 0x20) acc = k === 0 ? data.nr : k === 4 ? data.arch : k === 16 ? (data.arg0 ?? 0) >>> 0 : Number.NaN;
    else if (op === 0x15) pc += acc === k ? jt : jf;
    else if (op === 0x35) pc += acc >= k ? jt : jf;
    else if (op === 0x45) pc += (acc & k) !== 0 ? jt : jf;
    else if (op === 0x06) return k;
    else throw new Error(`unexpected opcode ${op}`);
  }
  throw new Error('fell off the end of the program');
}

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;
const AUDIT: Record<SandboxArch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };

describe('the sandbox seccomp filter', () => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const headers = headerNumbers(arch);
    it.skipIf(!headers)(`uses the ${arch} system call numbers of the installed kernel headers`, () => {
      for (const [name, number] of Object.entries(SYSCALL_NUMBERS[arch])) expect(`${name} ${headers!.get(name)}`).toBe(`${name} ${number}`);
      // Every refused call that exists on the architecture is in the table.
      for (const name of REFUSED_SYSCALLS) if (headers!.has(name)) expect(SYSCALL_NUMBERS[arch][name], name).toBeDefined();
    });

    it(`on ${arch}: refuses every listed call with EPERM, answers clone3 with ENOSYS and allows the rest`, () => {
      const program = buildSeccompFilter(arch);
      const numbers = SYSCALL_NUMBERS[arch];
      const audit = AUDIT[arch];
      for (const name of REFUSED_SYSCALLS) {
        const nr = numbers[name];
        if (nr !== undefined) expect(verdict(program, { arch: audit, nr }), name).toBe(EPERM);
      }
      expect(verdict(program, { arch: audit, nr: numbers.clone3! })).toBe(ENOSYS);
      const read = arch === 'x86_64' ? 0 : 63;
      expect(verdict(program, { arch: audit, nr: read })).toBe(ALLOW);
      // The arch check comes first: the same number under another ABI kills the process.
      expect(verdict(program, { arch: 0x40000003 /* i386 */, nr: read })).toBe(KILL);
    });

    it(`on ${arch}: allows clone for threads and fork, refuses it with any namespace flag`, () => {
      const program = buildSeccompFilter(arch);
      const clone = { arch: AUDIT[arch], nr: SYSCALL_NUMBERS[arch].clone! };
      expect(verdict(program, { ...clone, arg0: 0x3d0f00 /* pthread_create */ })).toBe(ALLOW);
      expect(verdict(program, { ...clone, arg0: 0x01200011 /* fork */ })).toBe(ALLOW);
      for (let bit = 0; bit < 32; bit++) {
        const flag = 2 ** bit;
        if (CLONE_NAMESPACE_FLAGS & flag) expect(verdict(program, { ...clone, arg0: flag | 17 }), flag.toString(16)).toBe(EPERM);
      }
    });

    it(`on ${arch}: allows only the harmless personalities`, () => {
      const program = buildSeccompFilter(arch);
      const personality = { arch: AUDIT[arch], nr: SYSCALL_NUMBERS[arch].personality! };
      for (const value of ALLOWED_PERSONALITIES) expect(verdict(program, { ...personality, arg0: value })).toBe(ALLOW);
      expect(verdict(program, { ...personality, arg0: 0x0040000 /* ADDR_NO_RANDOMIZE */ })).toBe(EPERM);
      expect(verdict(program, { ...personality, arg0: 0x0400000 /* READ_IMPLIES_EXEC */ })).toBe(EPERM);
    });
  }

  it('kills x32 system calls on x86_64', () => {
    expect(verdict(buildSeccompFilter('x86_64'), { arch: AUDIT.x86_64, nr: 0x40000000 | 39 })).toBe(KILL);
  });

  it('knows the architectures it has tables for', () => {
    expect([hostSandboxArch('x64'), hostSandboxArch('arm64'), hostSandboxArch('riscv64')]).toEqual(['x86_64', 'aarch64', undefined]);
  });
});
