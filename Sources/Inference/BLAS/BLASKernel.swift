import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// Which OpenBLAS kernel runs, and a better one when OpenBLAS's own detection fell back to a generic kernel.
///
/// OpenBLAS (Debian's 0.3.21, built for every core) picks its kernel from the CPU's family and model numbers, once,
/// in its library constructor, before `main`. A CPU whose model it does not know (a VM that masks the model, a newer
/// Intel part) gets Prescott's SSE3 kernels, 4 to 7 times slower than the AVX2 or AVX-512 ones the CPU can run. The
/// only way to choose another is `OPENBLAS_CORETYPE` in the environment before the library loads, so trapline
/// re-executes itself with it set (docs/blas.md).
public enum BLASKernel {
    /// What the CPU can run, as far as choosing an OpenBLAS kernel goes.
    public struct CPU: Sendable, Equatable {
        public enum Architecture: String, Sendable { case x86_64 = "x86-64", arm64, other }

        public var architecture: Architecture
        /// x86-64: AVX, FMA, AVX2 and AVX-512 (F, CD, BW, DQ, VL), each only where the OS saves its registers.
        public var avx = false
        public var fma = false
        public var avx2 = false
        public var avx512 = false
        /// x86-64: AVX-512 BF16 (OpenBLAS's Cooperlake kernels) and AMD's FMA4 (its Bulldozer-family kernels).
        public var avx512bf16 = false
        public var fma4 = false
        /// arm64: the ARMv8.1/8.2-A features that `-march=armv8.2-a` (OpenBLAS's `neoversen1` build) lets the
        /// compiler use (CRC32, LSE atomics, rounding doubling multiplies, DC CVAP); with ARMv8.3-A's JavaScript
        /// conversion, complex multiply-add and RCpc loads as well (`-march=armv8.3-a`); SVE; SVE2.
        public var armv82 = false
        public var armv83 = false
        public var sve = false
        public var sve2 = false

        public init(architecture: Architecture) { self.architecture = architecture }

        /// The features found, for logs: "x86-64 avx fma avx2 avx512".
        public var summary: String {
            let flags: [(Bool, String)] = [
                (avx, "avx"), (fma, "fma"), (fma4, "fma4"), (avx2, "avx2"), (avx512, "avx512"),
                (avx512bf16, "avx512bf16"), (armv82, "armv8.2"), (armv83, "armv8.3"), (sve, "sve"), (sve2, "sve2"),
            ]
            return ([architecture.rawValue] + flags.filter(\.0).map(\.1)).joined(separator: " ")
        }
    }

    /// The kernel OpenBLAS runs in this process (its own name for it: "Haswell", "SkylakeX", "cortexa72").
    public static var current: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build description, ending with the kernel name.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The kernel to use instead of `current`, or nil to keep it: the best that `cpu` can run when OpenBLAS chose
    /// one of a lower class (x86-64: generic < AVX < AVX2 + FMA < AVX-512; arm64: generic armv8 < an ARMv8.2 core).
    /// Never a kernel the CPU cannot run.
    /// - Parameters:
    ///   - current: OpenBLAS's kernel name.
    ///   - cpu: What the CPU can run.
    public static func better(than current: String, on cpu: CPU) -> String? {
        switch cpu.architecture {
        case .x86_64:
            let best = cpu.avx512 ? "SkylakeX" : cpu.avx2 && cpu.fma ? "Haswell" : cpu.avx ? "Sandybridge" : nil
            guard let best, x86Class(best) > x86Class(current) else { return nil }
            return best
        case .arm64:
            // Debian's 0.3.21 knows no Cortex-A76 (Raspberry Pi 5) and falls back to armv8; neoversen1 is built
            // for the A76's ISA (-march=armv8.2-a). Its SGEMM kernel and blocking are armv8's, the rest is tuned.
            return current.lowercased() == "armv8" && cpu.armv82 && !cpu.sve ? "neoversen1" : nil
        case .other:
            return nil
        }
    }

    /// OpenBLAS's generic kernel on `cpu`'s architecture: what `better(than:on:)` improves on from scratch.
    public static func generic(on cpu: CPU) -> String { cpu.architecture == .arm64 ? "armv8" : "Prescott" }

    /// Whether `cpu` has what kernel `name` needs. On x86-64 false only for names known to need more; on arm64
    /// also false for names not known, since OpenBLAS's arm64 builds include SVE kernels that trap on a Pi.
    public static func canRun(_ name: String, on cpu: CPU) -> Bool {
        switch cpu.architecture {
        case .x86_64:
            switch (name.lowercased(), x86Class(name)) {
            case ("cooperlake", _): return cpu.avx512 && cpu.avx512bf16
            case ("bulldozer", _): return cpu.avx && cpu.fma4
            case ("piledriver", _), ("steamroller", _), ("excavator", _): return cpu.avx && cpu.fma && cpu.fma4
            case (_, 3): return cpu.avx512
            case (_, 2): return cpu.avx2 && cpu.fma
            case (_, 1): return cpu.avx
            default: return true
            }
        case .arm64:
            // What each of OpenBLAS 0.3.29's arm64 kernels was compiled for (Makefile.arm64's -march), checked under
            // qemu-user, which traps what an emulated core lacks: on a Cortex-A72 and an A76, thunderx3t110 and
            // every SVE kernel die of SIGILL (Tests/Arm64/kernels.py; docs/blas.md).
            switch name.lowercased() {
            case "armv8", "cortexa53", "cortexa57", "cortexa72", "cortexa73", "falkor", "thunderx", "thunderx2t99",
                "emag8180":
                return true
            case "neoversen1", "tsv110", "cortexa55": return cpu.armv82
            case "thunderx3t110": return cpu.armv83
            case "neoversev1", "a64fx", "armv8sve": return cpu.sve
            case "neoversen2", "neoversev2", "cortexa510", "cortexa710", "cortexx2", "armv9sme": return cpu.sve2
            // A kernel this table does not know may need anything: OpenBLAS's own detection is safer.
            default: return false
            }
        case .other:
            return true
        }
    }

    /// 3: AVX-512 kernels, 2: AVX2 + FMA, 1: AVX, 0: SSE only (Prescott, Nehalem, Core2, ...).
    static func x86Class(_ name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": 3
        case "haswell", "zen": 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": 1
        default: 0
        }
    }
}

extension BLASKernel.CPU {
    /// The CPU this process runs on: cpuid and XCR0 on x86-64, the hwcaps (getauxval) on arm64.
    public static var detected: BLASKernel.CPU {
        #if arch(x86_64)
            return x86()
        #elseif arch(arm64)
            return arm64()
        #else
            return BLASKernel.CPU(architecture: .other)
        #endif
    }

    static func x86() -> BLASKernel.CPU {
        var cpu = BLASKernel.CPU(architecture: .x86_64)
        var leaf1: [UInt32] = [0, 0, 0, 0]
        var leaf7: [UInt32] = [0, 0, 0, 0]
        guard COpenBLAS_cpuid(1, 0, &leaf1) != 0 else { return cpu }
        let ecx = leaf1[2]
        let osxsave = ecx & (1 << 27) != 0
        // XCR0 bits 1-2: SSE and AVX state saved; bits 5-7: AVX-512 opmask and upper registers (Intel SDM 13.3).
        let xcr0 = osxsave ? COpenBLAS_xgetbv0() : 0
        cpu.avx = ecx & (1 << 28) != 0 && xcr0 & 0x6 == 0x6
        cpu.fma = cpu.avx && ecx & (1 << 12) != 0
        if COpenBLAS_cpuid(7, 0, &leaf7) != 0 {
            let ebx = leaf7[1]
            cpu.avx2 = cpu.avx && ebx & (1 << 5) != 0
            let avx512Bits: UInt32 = (1 << 16) | (1 << 17) | (1 << 28) | (1 << 30) | (1 << 31)  // F DQ CD BW VL
            cpu.avx512 = cpu.avx2 && ebx & avx512Bits == avx512Bits && xcr0 & 0xE6 == 0xE6
            var leaf71: [UInt32] = [0, 0, 0, 0]
            cpu.avx512bf16 = cpu.avx512 && COpenBLAS_cpuid(7, 1, &leaf71) != 0 && leaf71[0] & (1 << 5) != 0
        }
        var extended: [UInt32] = [0, 0, 0, 0]
        cpu.fma4 = cpu.avx && COpenBLAS_cpuid(0x8000_0001, 0, &extended) != 0 && extended[2] & (1 << 16) != 0
        return cpu
    }

    static func arm64() -> BLASKernel.CPU {
        var cpu = BLASKernel.CPU(architecture: .arm64)
        // Linux's arm64 hwcap bits (uapi asm/hwcap.h): CRC32 7, ATOMICS 8, ASIMDRDM 12, JSCVT 13, FCMA 14,
        // LRCPC 15, DCPOP 16, SVE 22; in AT_HWCAP2, SVE2 1.
        let hwcap = UInt64(COpenBLAS_hwcap())
        let v82: UInt64 = (1 << 7) | (1 << 8) | (1 << 12) | (1 << 16)
        let v83: UInt64 = v82 | (1 << 13) | (1 << 14) | (1 << 15)
        cpu.armv82 = hwcap & v82 == v82
        cpu.armv83 = hwcap & v83 == v83
        cpu.sve = hwcap & (1 << 22) != 0
        cpu.sve2 = cpu.sve && UInt64(COpenBLAS_hwcap2()) & (1 << 1) != 0
        return cpu
    }
}
