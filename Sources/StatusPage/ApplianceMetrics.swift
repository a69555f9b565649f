import Metrics
import Prometheus

/// The appliance's metrics, through swift-metrics; `bootstrap` installs the Prometheus backend whose registry
/// `/metrics` renders. Names follow Prometheus's conventions (`_total` counters, base units).
public enum ApplianceMetrics {
    public static let latencyBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120]

    /// HELP text per metric. swift-metrics has no place for it, so `/metrics` adds these lines to the registry's
    /// output (before each `# TYPE`), which `promtool check metrics` asks for.
    public static let help: [String: String] = [
        "trapline_images_catalogued_total": "Files read into the catalog for the first time.",
        "trapline_images_labelled_total": "Images labelled, by observation type.",
        "trapline_images_failed_total": "Images that could not be labelled, by error code.",
        "trapline_batch_latency_seconds": "Time from a batch's first arrival to its commit.",
        "trapline_batches_total": "Batches committed, by whether they met their deadline.",
        "trapline_slice_level": "Prune level (fraction of expanded channels removed) of each slice.",
        "trapline_node_up": "1 when the ring member answers its stats request.",
        "trapline_node_bypassed": "1 when the ring's route skips the member.",
        "trapline_queue_depth": "Images waiting to form a batch, and batches out for labelling.",
        "trapline_controller_changes_total": "Decisions of the pruning controller and the ring (levels, bypasses).",
    ]

    /// The registry's exposition with HELP lines added.
    public static func exposition(_ registry: PrometheusCollectorRegistry) -> String {
        var out = ""
        for line in registry.emitToString().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first,
                let text = help[String(name)]
            {
                out += "# HELP \(name) \(text)\n"
            }
            out += line + "\n"
        }
        return String(out.dropLast())
    }

    /// Installs the Prometheus backend (once per process) and returns its registry.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["trapline_batch_latency_seconds"] = latencyBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// A file was read into the catalog for the first time.
    public static func catalogued() {
        Counter(label: "trapline_images_catalogued_total").increment()
    }

    /// An image was labelled (`animal`, `human`, `vehicle`, `blank`).
    public static func labelled(type: String) {
        Counter(label: "trapline_images_labelled_total", dimensions: [("observation_type", type)]).increment()
    }

    /// An image could not be labelled, with its error code (`not-jpeg`, `truncated`, ...).
    public static func failed(reason: String) {
        Counter(label: "trapline_images_failed_total", dimensions: [("reason", reason)]).increment()
    }

    /// A batch was committed: its latency from first arrival, and whether it met its deadline.
    public static func batch(latencySeconds: Double, met: Bool) {
        Recorder(label: "trapline_batch_latency_seconds", aggregate: true).record(latencySeconds)
        Counter(label: "trapline_batches_total", dimensions: [("deadline", met ? "met" : "missed")]).increment()
    }

    /// Images waiting to form a batch, and batches out for labelling.
    public static func queues(waiting: Int, inFlight: Int) {
        Gauge(label: "trapline_queue_depth", dimensions: [("queue", "waiting")]).record(waiting)
        Gauge(label: "trapline_queue_depth", dimensions: [("queue", "in_flight")]).record(inFlight)
    }

    /// The prune level (fraction of expanded channels removed) each slice runs at.
    public static func sliceLevel(_ slice: Int, _ level: Double) {
        Gauge(label: "trapline_slice_level", dimensions: [("slice", String(slice))]).record(level)
    }

    /// Whether a ring member answers, and whether the route bypasses it.
    public static func node(_ name: String, up: Bool, bypassed: Bool) {
        Gauge(label: "trapline_node_up", dimensions: [("node", name)]).record(up ? 1 : 0)
        Gauge(label: "trapline_node_bypassed", dimensions: [("node", name)]).record(bypassed ? 1 : 0)
    }

    /// Decisions of the controller or the ring (level changes, bypasses, re-admissions) since the last call.
    public static func controllerChanges(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "trapline_controller_changes_total").increment(by: count)
    }
}
