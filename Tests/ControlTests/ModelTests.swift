import Control
import Foundation
import Testing

@Suite struct SliceProfileTests {
    static let profile = SliceProfile(
        node: "pi2", units: [5, 10], batchSizes: [2, 4, 8], serviceMs: [[10, 8], [16, 12], [30, 20]])

    static let cases: [(Int, Int, Double)] = [
        (2, 0, 10.0), (4, 1, 12.0), (8, 0, 30.0),  // measured sizes
        (3, 0, 13.0), (6, 1, 16.0), (7, 0, 26.5),  // interpolated: 10 + (16-10)/2; (12+20)/2; 16 + 3/4 * 14
        (1, 0, 5.0), (1, 1, 4.0),  // below the smallest: half of batch 2
        (16, 1, 40.0), (12, 0, 45.0),  // above the largest: in proportion to batch 8
        (4, 7, 12.0), (4, -1, 16.0),  // levels clamped to the measured ones
    ]

    @Test(arguments: cases)
    func serviceTime(batch: Int, level: Int, expected: Double) {
        #expect(abs(Self.profile.serviceMs(batch: batch, level: level) - expected) < 1e-12)
    }

    @Test func emptyProfileHasNoTime() {
        #expect(
            SliceProfile(node: "x", units: [0, 1], batchSizes: [], serviceMs: []).serviceMs(batch: 8, level: 0).isNaN)
    }

    @Test func roundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(Self.profile)
        #expect(try JSONDecoder().decode(SliceProfile.self, from: data) == Self.profile)
    }

    @Test func validationNamesTheNode() {
        let error = #expect(throws: ControlError.self) { try Self.profile.validate(levelCount: 3) }
        #expect(error?.code == .mismatch)
        #expect(error?.message.contains("pi2") == true)
    }
}

@Suite struct AccuracyTableTests {
    /// Level vectors and their expected accuracy under the measured curves, worked out by hand.
    static let cases: [([Int], Double)] = [
        ([0, 0, 0, 0], 0.99),
        ([1, 0, 0, 0], 0.68),
        ([0, 0, 0, 3], 0.07),
        ([1, 1, 0, 0], 0.68 * 0.51 / 0.99),
        ([2, 1, 1, 2], 0.42 * 0.51 * 0.41 * 0.25 / (0.99 * 0.99 * 0.99)),
    ]

    @Test(arguments: cases)
    func independentDegradation(levels: [Int], expected: Double) {
        #expect(abs(Fixtures.measured.expected(levels) - expected) < 1e-12)
    }
}
