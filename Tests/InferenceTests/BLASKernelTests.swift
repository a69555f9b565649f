import Testing

@testable import Inference

@Suite struct BLASKernelTests {
    static func x86(avx: Bool = false, avx2: Bool = false, avx512: Bool = false) -> BLASKernel.CPU {
        var cpu = BLASKernel.CPU(architecture: .x86_64)
        (cpu.avx, cpu.fma, cpu.avx2, cpu.avx512) = (avx || avx2 || avx512, avx2 || avx512, avx2 || avx512, avx512)
        return cpu
    }

    static func arm(v82: Bool, sve: Bool = false, sve2: Bool = false) -> BLASKernel.CPU {
        var cpu = BLASKernel.CPU(architecture: .arm64)
        (cpu.armv82, cpu.sve, cpu.sve2) = (v82, sve, sve2)
        return cpu
    }

    /// A Raspberry Pi 4's Cortex-A72 (ARMv8.0) and a Pi 5's Cortex-A76 (ARMv8.2 with RCpc, no JSCVT or FCMA, so not
    /// ARMv8.3; no SVE), as their hwcaps read under qemu-user's models of the two cores.
    static let pi4 = arm(v82: false)
    static let pi5 = arm(v82: true)

    /// Every arm64 kernel trixie's OpenBLAS 0.3.29 was built with, and whether it ran a classification when forced
    /// on qemu-user's Cortex-A72 and A76 (Tests/Arm64/kernels.py, 2026-12-06): "trap" is SIGILL on both.
    static let forcedOnPis: [(kernel: String, ranOnPi4: Bool, ranOnPi5: Bool)] = [
        ("armv8", true, true), ("cortexa53", true, true), ("cortexa55", true, true), ("cortexa57", true, true),
        ("cortexa72", true, true), ("cortexa73", true, true), ("falkor", true, true), ("thunderx", true, true),
        ("thunderx2t99", true, true), ("thunderx3t110", false, false), ("tsv110", true, true),
        ("emag8180", true, true), ("neoversen1", true, true), ("neoversen2", false, false),
        ("neoversev1", false, false), ("neoversev2", false, false), ("armv8sve", false, false),
        ("a64fx", false, false),
    ]

    @Test func noKernelThatTrapsOnAPiIsKeptThere() {
        for (kernel, ranOnPi4, ranOnPi5) in Self.forcedOnPis {
            // Never keep what traps. Refusing a kernel that happened to run is allowed where it was built for more
            // than the core has (neoversen1 and tsv110 for ARMv8.2 on the A72's ARMv8.0).
            if !ranOnPi4 { #expect(!BLASKernel.canRun(kernel, on: Self.pi4), "\(kernel) on a Pi 4") }
            if !ranOnPi5 { #expect(!BLASKernel.canRun(kernel, on: Self.pi5), "\(kernel) on a Pi 5") }
            // On the A76 everything that ran is kept: it is ARMv8.2, what the ones built for more than v8.0 need.
            if ranOnPi5 { #expect(BLASKernel.canRun(kernel, on: Self.pi5), "\(kernel) on a Pi 5") }
        }
        #expect(!BLASKernel.canRun("some-future-kernel", on: Self.pi5))
        #expect(BLASKernel.canRun("neoversen2", on: Self.arm(v82: true, sve: true, sve2: true)))
        #expect(!BLASKernel.canRun("neoversen2", on: Self.arm(v82: true, sve: true)))
    }

    @Test(
        arguments: [
            // An alias: OpenBLAS 0.3.29 takes neoversev2 and loads neoversev1's SVE kernel, which traps on a Pi.
            (
                "neoversev2", "neoversev1", pi5,
                BLASKernel.Action.reexecute(kernel: "neoversen1", reason: "", fatal: true)
            ),
            ("neoversev2", "neoversev1", pi4, .reexecute(kernel: nil, reason: "", fatal: true)),
            ("a64fx", "a64fx", pi4, .reexecute(kernel: nil, reason: "", fatal: true)),
            ("SkylakeX", "SkylakeX", x86(avx2: true), .reexecute(kernel: "Haswell", reason: "", fatal: true)),
            // OpenBLAS fell back: a better kernel, but keeping the fallback would not have been fatal.
            (nil, "armv8", pi5, .reexecute(kernel: "neoversen1", reason: "", fatal: false)),
        ] as [(String?, String, BLASKernel.CPU, BLASKernel.Action)])
    func aKernelTheCPUCannotRunIsReplaced(
        forced: String?, current: String, cpu: BLASKernel.CPU, expected: BLASKernel.Action
    ) {
        let action = BLASKernel.decide(forced: forced, current: current, cpu: cpu)
        guard case .reexecute(let kernel, let reason, let fatal) = action,
            case .reexecute(let expectedKernel, _, let expectedFatal) = expected
        else {
            Issue.record("\(action)")
            return
        }
        #expect(kernel == expectedKernel && fatal == expectedFatal)
        #expect(reason.contains(current), "\(reason)")
    }

    @Test(
        arguments: [
            ("cortexa57", "cortexa57", pi4, BLASKernel.Selection.Source.environment),
            (nil, "cortexa57", pi4, .openBLAS),
            (nil, "neoversen1", pi5, .openBLAS),
            // A name OpenBLAS did not take leaves its own detection, judged as such.
            ("Cooperlake", "Haswell", x86(avx2: true), .openBLAS),
        ] as [(String?, String, BLASKernel.CPU, BLASKernel.Selection.Source)])
    func aKernelTheCPUCanRunIsKept(
        forced: String?, current: String, cpu: BLASKernel.CPU, source: BLASKernel.Selection.Source
    ) {
        #expect(
            BLASKernel.decide(forced: forced, current: current, cpu: cpu)
                == .keep(BLASKernel.Selection(kernel: current, source: source, detail: cpu.summary)))
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
