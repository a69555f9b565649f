import Testing

@testable import Ring

/// A hop's units split into the parts of each plan slice they cover, whatever the boundaries: every unit once,
/// in order, each part inside one slice.
@Suite struct SegmentTests {
    @Test func everyRangeSplitsIntoItsSlicesParts() {
        let plan = [0, 3, 8, 13, 18]
        #expect(SliceRunner.segments(of: 0..<18, plan: plan).map(\.slice) == [0, 1, 2, 3])
        #expect(SliceRunner.segments(of: 5..<10, plan: plan).map(\.units) == [5..<8, 8..<10])
        #expect(SliceRunner.segments(of: 3..<8, plan: plan).map(\.slice) == [1])
        #expect(SliceRunner.segments(of: 17..<18, plan: plan).map(\.units) == [17..<18])
        for lower in 0..<18 {
            for upper in (lower + 1)...18 {
                let parts = SliceRunner.segments(of: lower..<upper, plan: plan)
                #expect(parts.flatMap { Array($0.units) } == Array(lower..<upper))
                for part in parts {
                    #expect(plan[part.slice] <= part.units.lowerBound && part.units.upperBound <= plan[part.slice + 1])
                }
            }
        }
    }
}
