import Ring
import ServiceLifecycle

/// Runs this node's part of the ring (and, on the head, the head's probing and resending) as a service of
/// the appliance's group; graceful shutdown stops the server after the pipeline has finished its batches.
public struct RingNodeService: Service {
    public let node: RingNode
    public let head: RingHead?
    let notifier: SystemdNotifier?

    /// Creates the service.
    /// - Parameters:
    ///   - node: This node.
    ///   - head: The head's logic, on the head only.
    ///   - notifier: On a worker, tells systemd the node is ready (on the head, the pipeline does).
    public init(node: RingNode, head: RingHead?, notifier: SystemdNotifier? = nil) {
        self.node = node
        self.head = head
        self.notifier = notifier
    }

    public func run() async throws {
        await head?.attach()
        notifier?.notify("READY=1\nSTATUS=ring node \(node.config.node) serving slices")
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await node.run() }
                if let head { group.addTask { await head.run() } }
                try await group.next()
                group.cancelAll()
            }
        }
        await head?.stop()
    }
}
