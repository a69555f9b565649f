import FoundationEssentials

/// What the kernel says about a node's heat.
public struct ThermalReading: Sendable, Equatable {
    /// The SoC temperature, where a thermal zone exposes it (every Raspberry Pi does; most VMs do not).
    public var celsius: Double?
    /// The Raspberry Pi firmware's throttling flags, as `vcgencmd get_throttled` prints them: bit 0 under-voltage,
    /// 1 ARM frequency capped, 2 throttled, 3 soft temperature limit active; bits 16-19 the same since boot.
    public var throttledFlags: UInt32?

    /// Creates a reading.
    public init(celsius: Double? = nil, throttledFlags: UInt32? = nil) {
        self.celsius = celsius
        self.throttledFlags = throttledFlags
    }

    /// Whether the firmware says the clock is held down now (frequency capped, throttled or at the soft limit).
    public var throttlingNow: Bool { (throttledFlags ?? 0) & 0b1110 != 0 }
}

/// Reads a node's temperature and throttling flags under a sysfs root: `/sys` on a node, a folder of the same
/// layout when the ring experiment drives a temperature ramp.
///
/// - `class/thermal/thermal_zone0/temp`: millidegrees Celsius;
/// - `devices/platform/soc/soc:firmware/get_throttled`: the firmware's flags in hex (Raspberry Pi OS kernels
///   expose it on the Pi 4 and Pi 5; other boards have no such file, and the flags are then absent).
public enum Thermal {
    /// The thermal zone's file under the root.
    public static let temperaturePath = "class/thermal/thermal_zone0/temp"
    /// The Raspberry Pi firmware's throttling flags under the root.
    public static let throttledPath = "devices/platform/soc/soc:firmware/get_throttled"

    /// Reads both; a file that is missing or unreadable leaves its value out.
    public static func read(root: String) -> ThermalReading {
        let base = root.hasSuffix("/") ? root : root + "/"
        let celsius = (try? FileManagerLite.read(base + temperaturePath)).flatMap(parseMillidegrees)
        let flags = (try? FileManagerLite.read(base + throttledPath)).flatMap(parseFlags)
        return ThermalReading(celsius: celsius, throttledFlags: flags)
    }

    static func parseMillidegrees(_ text: String) -> Double? {
        Double(text.filter { !$0.isWhitespace }).map { $0 / 1000 }
    }

    /// `0x50005`, `50005` or `throttled=0x50005` (the firmware's own format varies by kernel).
    static func parseFlags(_ text: String) -> UInt32? {
        var value = Substring(text.filter { !$0.isWhitespace })
        if let equals = value.firstIndex(of: "=") { value = value[value.index(after: equals)...] }
        if value.hasPrefix("0x") || value.hasPrefix("0X") { value = value.dropFirst(2) }
        return UInt32(value, radix: 16)
    }
}
