import Catalog
import Inference
import Labels
import Testing

@testable import Appliance

/// The catalog's event labeller: an event's label from its frames' kept class scores.
@Suite struct EventLabelTests {
    static func labeller() throws -> EventLabeler {
        let labeler = try Labeler(metadata: try PruningControlTests.metadata())
        return BurstCombiner(labeler: labeler, settings: BurstSettings()).eventLabeler
    }

    @Test func anEventIsLabelledFromItsFramesThatShowSomething() throws {
        let label = try Self.labeller()
        // ImageNet class 277 is the red fox: two fox frames and a blank one make a fox event.
        let fox = EventFrame(observationType: "animal", classScores: "[[277,0.9],[278,0.05]]")
        let blank = EventFrame(observationType: "blank", classScores: "[[500,0.4]]")
        let event = try #require(label([fox, blank, fox]))
        #expect(event.observationType == "animal" && event.classIndex == 277)
        #expect(event.scientificName == "Vulpes vulpes")
        // Every frame blank: a blank event.
        #expect(label([blank, blank])?.observationType == "blank")
        // A frame that shows something but whose scores the catalog did not keep (labelled before they were
        // kept) cannot be averaged: no label rather than a wrong one. Unreadable scores count as missing.
        #expect(label([fox, EventFrame(observationType: "animal", classScores: "[]")]) == nil)
        #expect(label([fox, EventFrame(observationType: "animal", classScores: "not json")]) == nil)
    }
}
