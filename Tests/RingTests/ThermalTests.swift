import Foundation
import Testing

@testable import Ring

/// A node's heat, read under a sysfs root the way a Raspberry Pi lays it out.
@Suite struct ThermalTests {
    @Test func temperatureAndThrottlingFlagsAreReadUnderTheRoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sysfs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(Thermal.read(root: root) == ThermalReading(), "no files: nothing known")
        let zone = root + "/class/thermal/thermal_zone0"
        let firmware = root + "/devices/platform/soc/soc:firmware"
        for folder in [zone, firmware] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try "79512\n".write(toFile: zone + "/temp", atomically: true, encoding: .utf8)
        try "0x50005\n".write(toFile: firmware + "/get_throttled", atomically: true, encoding: .utf8)
        let reading = Thermal.read(root: root)
        #expect(reading.celsius == 79.512)
        #expect(reading.throttledFlags == 0x50005)
        #expect(reading.throttlingNow, "bit 2: throttled now")
        #expect(!ThermalReading(celsius: 50, throttledFlags: 0x50000).throttlingNow, "only since boot")
        #expect(Thermal.parseFlags("throttled=0x8") == 8)
        #expect(Thermal.parseFlags("20000") == 0x20000)
        #expect(Thermal.parseFlags("hot") == nil)
        #expect(Thermal.parseMillidegrees("not a number") == nil)
    }
}
