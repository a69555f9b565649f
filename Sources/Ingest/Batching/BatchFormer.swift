import Catalog

/// A batch to label: its media, when its first image arrived, and its deadline (that arrival plus the SLO).
public struct FormedBatch: Sendable, Equatable {
    public var items: [PendingMedia]
    public var firstArrival: Double
    public var deadline: Double
}

/// Groups pending images into batches: a batch closes when it is full, or when its first image has waited
/// `maxWait` seconds. Each batch's deadline is its first image's arrival plus `slo`. Pure logic over times, so it
/// is tested with simulated clocks.
public struct BatchFormer: Sendable {
    public var maxSize: Int
    public var maxWait: Double
    public var slo: Double
    private var queue: [PendingMedia] = []
    private var queued: Set<String> = []

    /// Creates a batch former.
    /// - Parameters:
    ///   - maxSize: Images per batch at most.
    ///   - maxWait: Seconds the first image of a batch may wait for company.
    ///   - slo: Seconds from an image's arrival to its label being written.
    public init(maxSize: Int, maxWait: Double, slo: Double) {
        self.maxSize = max(1, maxSize)
        self.maxWait = max(0, maxWait)
        self.slo = slo
    }

    /// Images waiting.
    public var count: Int { queue.count }

    /// Adds a pending image (ignored when already queued).
    public mutating func add(_ item: PendingMedia) {
        guard queued.insert(item.mediaID).inserted else { return }
        let index = queue.firstIndex { $0.arrivedAt > item.arrivedAt } ?? queue.count
        queue.insert(item, at: index)
    }

    /// The next batch, if one is due at `now`.
    public mutating func take(now: Double, force: Bool = false) -> FormedBatch? {
        guard let first = queue.first else { return nil }
        guard force || queue.count >= maxSize || now - first.arrivedAt >= maxWait else { return nil }
        let items = Array(queue.prefix(maxSize))
        queue.removeFirst(items.count)
        for item in items { queued.remove(item.mediaID) }
        return FormedBatch(items: items, firstArrival: first.arrivedAt, deadline: first.arrivedAt + slo)
    }

    /// When the oldest waiting image's batch falls due; nil when nothing waits.
    public var nextDue: Double? { queue.first.map { $0.arrivedAt + maxWait } }
}
