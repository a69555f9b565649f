import Foundation
import Inference
import TestSupport
import Testing

/// trapline ends up on the best OpenBLAS kernel the CPU can run, whatever OpenBLAS detected (docs/blas.md).
@Suite struct BLASKernelCommandTests {
    /// The kernel line of `trapline --version`: "Haswell (chosen by trapline; OpenBLAS had chosen Prescott on ...)".
    /// Only `environment` sets a kernel: one set for the whole test run (to run the suites under another kernel)
    /// would be a kernel someone chose.
    static func kernelLine(_ prefix: [String] = [], environment: [String: String] = [:]) throws -> String {
        let arguments = prefix + [try InspectCommandTests.binary(), "--version"]
        let unset = ["-u", "OPENBLAS_CORETYPE", "-u", "TRAPLINE_BLAS_REEXECUTED"]
        let result = try runCommand("env", unset + environment.map { "\($0)=\($1)" } + arguments)
        return String(result.output.split(separator: "\n").last ?? "")
    }

    @Test func theKernelInUseIsTheBestThisCPUCanRun() throws {
        let line = try Self.kernelLine()
        let kernel = String(line.prefix { $0 != " " })
        let cpu = BLASKernel.CPU.detected
        #expect(BLASKernel.canRun(kernel, on: cpu), "\(line)")
        #expect(BLASKernel.better(than: kernel, on: cpu) == nil, "\(line)")
    }

    @Test func aKernelSomeoneSetIsKeptWhenTheCPUCanRunIt() throws {
        let cpu = BLASKernel.CPU.detected
        let kernel = cpu.architecture == .arm64 ? "armv8" : "Sandybridge"
        guard BLASKernel.canRun(kernel, on: cpu) else { return }
        let line = try Self.kernelLine(environment: ["OPENBLAS_CORETYPE": kernel])
        #expect(line.hasPrefix("\(kernel) (set by OPENBLAS_CORETYPE"), "\(line)")
    }

    /// An Intel CPU whose model OpenBLAS 0.3.21 does not know (family 6, extended model 0xB: it falls through to
    /// Prescott), emulated by qemu-user with a chosen feature set. The re-executed trapline runs natively (qemu-user
    /// does not follow execve), so the test checks the decision made on the emulated CPU and the kernel it set.
    static let unknownIntel = "qemu64,vendor=GenuineIntel,family=6,model=183"

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-x86_64")),
        arguments: [
            (
                "+avx,+avx2,+fma,+xsave",
                "Haswell (chosen by trapline; OpenBLAS had chosen Prescott on x86-64 avx fma avx2)"
            ),
            ("+avx,+xsave", "Sandybridge (chosen by trapline; OpenBLAS had chosen Prescott on x86-64 avx)"),
            ("", "Prescott (detected by OpenBLAS; x86-64)"),
        ])
    func aGenericFallbackIsReplacedByWhatTheCPUCanRun(features: String, expected: String) throws {
        #if arch(x86_64)
            let cpu = features.isEmpty ? Self.unknownIntel : "\(Self.unknownIntel),\(features)"
            #expect(try Self.kernelLine(["qemu-x86_64", "-cpu", cpu]) == expected)
        #endif
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-x86_64")))
    func aKernelTheCPUCannotRunIsDropped() throws {
        #if arch(x86_64)
            // Haswell's kernels on a CPU without AVX would die of SIGILL at the first multiply.
            let line = try Self.kernelLine(
                ["qemu-x86_64", "-cpu", Self.unknownIntel], environment: ["OPENBLAS_CORETYPE": "Haswell"])
            #expect(
                line.hasSuffix("(chosen by trapline; OPENBLAS_CORETYPE=Haswell needs more than this CPU has (x86-64))"))
        #endif
    }
}
