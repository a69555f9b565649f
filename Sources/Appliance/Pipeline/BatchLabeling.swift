import Catalog
import Ingest
import Labels

/// What labels a formed batch: the whole network on this node (`LabelingStage`) or the ring
/// (`RingLabelingStage`).
public protocol BatchLabeling: Sendable {
    /// Batches the pipeline may have out at once.
    var maxInFlight: Int { get }

    /// Labels a batch.
    /// - Parameter batch: The batch.
    /// - Returns: The result, ready for the catalog.
    /// - Throws: When the batch could not be labelled at all (its media stay pending).
    func label(_ batch: FormedBatch) async throws -> BatchResult

    /// Makes an event's label from its frames when a batch is committed; nil for none.
    var eventLabeler: EventLabeler? { get }
}

extension BatchLabeling {
    public var eventLabeler: EventLabeler? { nil }
}
