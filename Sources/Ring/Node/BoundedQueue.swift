/// A first-in first-out queue with a fixed capacity and one consumer: `push` waits while the queue is full,
/// which is how a slow node makes its upstream wait (and, through HTTP/2 flow control, the node before it).
actor BoundedQueue<Element: Sendable> {
    let capacity: Int
    private var items: [Element] = []
    private var producers: [CheckedContinuation<Void, Never>] = []
    private var consumer: CheckedContinuation<Element?, Never>?
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Elements waiting.
    var count: Int { items.count }

    /// Appends an element, waiting while the queue is full.
    func push(_ element: Element) async {
        while items.count >= capacity, !closed {
            await withCheckedContinuation { producers.append($0) }
        }
        if let waiting = consumer {
            consumer = nil
            waiting.resume(returning: element)
        } else {
            items.append(element)
        }
    }

    /// Removes the oldest element, waiting while the queue is empty; nil once the queue is closed or the
    /// waiting task is cancelled.
    func pop() async -> Element? {
        if !items.isEmpty {
            let element = items.removeFirst()
            if !producers.isEmpty { producers.removeFirst().resume() }
            return element
        }
        if closed || Task.isCancelled { return nil }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume(returning: nil) } else { consumer = continuation }
            }
        } onCancel: {
            Task { await self.wakeConsumer() }
        }
    }

    /// Ends every wait: `pop` returns nil from now on when the queue is empty.
    func close() {
        closed = true
        wakeConsumer()
        for producer in producers { producer.resume() }
        producers.removeAll()
    }

    private func wakeConsumer() {
        consumer?.resume(returning: nil)
        consumer = nil
    }

    /// Removes every waiting element (a link that lost its peer drops what it held: the head resends).
    func drain() -> [Element] {
        let drained = items
        items.removeAll()
        for producer in producers { producer.resume() }
        producers.removeAll()
        return drained
    }
}
