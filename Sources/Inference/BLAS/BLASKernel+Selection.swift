#if canImport(Glibc)
    import Glibc
#endif

extension BLASKernel {
    /// The kernel in use and how it came to be chosen, for the start-up log, `--version` and `trapline profile`.
    public struct Selection: Sendable, Equatable, CustomStringConvertible {
        public enum Source: String, Sendable {
            case openBLAS = "detected by OpenBLAS"
            case environment = "set by OPENBLAS_CORETYPE"
            case trapline = "chosen by trapline"
        }

        public var kernel: String
        public var source: Source
        /// What the choice rests on: the CPU's features, or what OpenBLAS had detected before trapline stepped in.
        public var detail: String

        public var description: String { "\(kernel) (\(source.rawValue); \(detail))" }
    }

    /// Set on the re-executed process: why it was re-executed (and so that it decides only once).
    static let reasonVariable = "TRAPLINE_BLAS_REEXECUTED"
    static let coreVariable = "OPENBLAS_CORETYPE"

    /// What to do about the kernel OpenBLAS loaded, before anything runs on it.
    public enum Action: Sendable, Equatable {
        /// Keep it; the selection says why.
        case keep(Selection)
        /// Re-execute with `OPENBLAS_CORETYPE` set to the kernel (unset when nil), for the reason given; `fatal`
        /// when keeping the loaded kernel would stop the process with SIGILL at its first multiply.
        case reexecute(kernel: String?, reason: String, fatal: Bool)
    }

    /// Decides about the loaded kernel.
    /// - Parameters:
    ///   - forced: `OPENBLAS_CORETYPE`, when someone set it.
    ///   - current: The kernel OpenBLAS loaded (its own name, which for an alias is not the name set: OpenBLAS
    ///     0.3.29 runs `cortexa72` as `cortexa57` and `neoversev2` as `neoversev1`).
    ///   - cpu: What the CPU can run.
    public static func decide(forced: String?, current: String, cpu: CPU) -> Action {
        if let forced {
            // Judged by the kernel actually loaded, whatever name brought it: a name OpenBLAS aliases to a kernel
            // this CPU cannot run (`neoversev2` on a Raspberry Pi) is as fatal as the kernel's own name.
            if !canRun(current, on: cpu) {
                let named =
                    forced.lowercased() == current.lowercased() ? forced : "\(forced) (OpenBLAS runs \(current))"
                let reason = "\(coreVariable)=\(named) needs more than this CPU has (\(cpu.summary))"
                return .reexecute(kernel: better(than: generic(on: cpu), on: cpu), reason: reason, fatal: true)
            }
            if forced.lowercased() == current.lowercased() {
                return .keep(Selection(kernel: current, source: .environment, detail: cpu.summary))
            }
            // A name OpenBLAS did not take (unknown to it, or Cooperlake, which 0.3.21 cannot be forced to) left
            // its own detection in force: decided below like any other detection.
        }
        guard let best = better(than: current, on: cpu) else {
            return .keep(Selection(kernel: current, source: .openBLAS, detail: cpu.summary))
        }
        return .reexecute(kernel: best, reason: "OpenBLAS had chosen \(current) on \(cpu.summary)", fatal: false)
    }

    /// Makes sure OpenBLAS runs the best kernel this CPU can run: call it first thing in `main`, before any thread
    /// starts. When OpenBLAS fell back to a lower class of kernel, or `OPENBLAS_CORETYPE` gave a kernel the CPU
    /// cannot run (it would die of SIGILL at the first multiply), the process re-executes itself with
    /// `OPENBLAS_CORETYPE` set; this call then does not return. A kernel someone set and the CPU can run is kept.
    /// - Returns: The kernel in use and why.
    public static func selectBeforeStart() -> Selection {
        let current = self.current
        if let reason = environment(reasonVariable) {
            // Decided once, before this process was re-executed; children start afresh.
            unsetenv(reasonVariable)
            return Selection(kernel: current, source: .trapline, detail: reason)
        }
        let cpu = CPU.detected
        switch decide(forced: environment(coreVariable), current: current, cpu: cpu) {
        case .keep(let selection):
            return selection
        case .reexecute(let kernel, let reason, let fatal):
            if let selection = reexecute(with: kernel, reason: reason) { return selection }
            guard fatal else {
                let detail = "could not re-execute with \(kernel ?? "OpenBLAS's own choice"); \(cpu.summary)"
                return Selection(kernel: current, source: .openBLAS, detail: detail)
            }
            // OpenBLAS is loaded with that kernel: its first multiply would stop the process with SIGILL.
            let message = "trapline: \(reason), and re-executing without it failed; unset \(coreVariable)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(1)
        }
    }

    /// Re-executes this program with `OPENBLAS_CORETYPE=kernel` (unset when nil); returns nil when that failed.
    private static func reexecute(with kernel: String?, reason: String) -> Selection? {
        if let kernel { setenv(coreVariable, kernel, 1) } else { unsetenv(coreVariable) }
        setenv(reasonVariable, reason, 1)
        // /proc/self/exe rather than argv[0]: the program may have been started through PATH or a relative path.
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, path.count - 1)
        if length > 0 {
            var arguments = CommandLine.arguments.map { strdup($0) } + [nil]
            execv(path, &arguments)
            for argument in arguments { free(argument) }
        }
        unsetenv(reasonVariable)
        unsetenv(coreVariable)
        return nil
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name), value.pointee != 0 else { return nil }
        return String(cString: value)
    }
}
