import Testing

@testable import Inference

@Suite struct BLASKernelTests {
    static func x86(avx: Bool = false, avx2: Bool = false, avx512: Bool = false) -> BLASKernel.CPU {
        var cpu = BLASKernel.CPU(architecture: .x86_64)
        (cpu.avx, cpu.fma, cpu.avx2, cpu.avx512) = (avx || avx2 || avx512, avx2 || avx512, avx2 || avx512, avx512)
        return cpu
    }

    static func arm(v82: Bool, sve: Bool = false) -> BLASKernel.CPU {
        var cpu = BLASKernel.CPU(architecture: .arm64)
        (cpu.armv82, cpu.sve) = (v82, sve)
        return cpu
    }

    @Test(
        arguments: [
            // The masked Intel VM of issue 20: OpenBLAS 0.3.21 said Prescott on an AVX-512 CPU.
            ("Prescott", x86(avx512: true), "SkylakeX"),
            ("Prescott", x86(avx2: true), "Haswell"),
            ("Nehalem", x86(avx: true), "Sandybridge"),
            ("Sandybridge", x86(avx2: true), "Haswell"),
            // Never more than the CPU can run, and never a step down or sideways.
            ("Prescott", x86(), nil),
            ("Cooperlake", x86(avx512: true), nil),
            ("Zen", x86(avx2: true), nil),
            ("Haswell", x86(avx2: true), nil),
            // Raspberry Pi 5 (Cortex-A76, ARMv8.2): Debian's 0.3.21 falls back to armv8.
            ("armv8", arm(v82: true), "neoversen1"),
            // Raspberry Pi 4 (Cortex-A72, ARMv8.0) is detected as cortexa72: kept, and armv8 is its best fallback.
            ("cortexa72", arm(v82: false), nil),
            ("armv8", arm(v82: false), nil),
            ("armv8", arm(v82: true, sve: true), nil),
        ] as [(String, BLASKernel.CPU, String?)])
    func aBetterKernelOnlyWhereOpenBLASFellBack(current: String, cpu: BLASKernel.CPU, expected: String?) {
        #expect(BLASKernel.better(than: current, on: cpu) == expected)
        if let expected { #expect(BLASKernel.canRun(expected, on: cpu)) }
    }

    @Test func kernelsThatNeedMoreThanTheCPUHasAreRecognised() {
        #expect(!BLASKernel.canRun("SkylakeX", on: Self.x86(avx2: true)))
        #expect(!BLASKernel.canRun("Haswell", on: Self.x86(avx: true)))
        #expect(!BLASKernel.canRun("Sandybridge", on: Self.x86()))
        #expect(BLASKernel.canRun("Prescott", on: Self.x86()))
        #expect(!BLASKernel.canRun("neoversen1", on: Self.arm(v82: false)))
        #expect(!BLASKernel.canRun("neoversen2", on: Self.arm(v82: true)))
        // Cooperlake's kernels use AVX-512 BF16; the Bulldozer family's, AMD's FMA4.
        var skylake = Self.x86(avx512: true)
        #expect(!BLASKernel.canRun("Cooperlake", on: skylake))
        skylake.avx512bf16 = true
        #expect(BLASKernel.canRun("Cooperlake", on: skylake))
        #expect(!BLASKernel.canRun("Bulldozer", on: Self.x86(avx2: true)))
        #expect(!BLASKernel.canRun("Piledriver", on: Self.x86(avx2: true)))
        // From scratch (a forced kernel dropped), each architecture starts from its own generic kernel.
        #expect(
            BLASKernel.better(than: BLASKernel.generic(on: Self.arm(v82: true)), on: Self.arm(v82: true))
                == "neoversen1")
        #expect(
            BLASKernel.better(than: BLASKernel.generic(on: Self.x86(avx2: true)), on: Self.x86(avx2: true)) == "Haswell"
        )
    }

    @Test func theKernelInUseRunsOnThisCPU() {
        let cpu = BLASKernel.CPU.detected
        #expect(BLASKernel.canRun(BLASKernel.current, on: cpu), "\(BLASKernel.current) on \(cpu.summary)")
    }
}
