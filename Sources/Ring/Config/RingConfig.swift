import FoundationEssentials
import Inference
import RingWire

/// One member of the ring.
public struct RingMember: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    /// Creates a member.
    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }

    /// Parses `name=host:port` (an IPv6 host in brackets: `pi1=[fd00::1]:7401`).
    /// - Throws: `RingError` with `badConfig` naming what is wrong.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(\.trimmingSpaces)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw RingError(.badConfig, "\"\(text)\" is not name=host:port")
        }
        guard let colon = parts[1].lastIndex(of: ":"), let port = Int(parts[1][parts[1].index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw RingError(.badConfig, "\"\(text)\": the address needs a port in 1...65535 (host:port)")
        }
        var host = String(parts[1][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw RingError(.badConfig, "\"\(text)\": the address has no host") }
        guard parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw RingError(.badConfig, "\"\(parts[0])\": a node name may use letters, digits, '-', '_' and '.'")
        }
        self.init(name: parts[0], host: host, port: port)
    }

    public var description: String { "\(name)=\(host.contains(":" as Character) ? "[\(host)]" : host):\(port)" }
}

/// How nodes authenticate each other.
public enum RingSecurity: Sendable, Equatable {
    /// Mutual TLS under the ring's CA; the folder holds `ca.pem`, `<node>.pem` and `<node>.key`.
    case mutualTLS(credentials: String)
    /// No encryption and no authentication: only when the configuration asks for it by name.
    case plaintext
}

/// What carries activations and logits between nodes; control, stats and health are gRPC either way.
public enum RingDataTransport: String, Sendable, Equatable, CaseIterable {
    /// gRPC's Forward and Deliver streams, on the node's port.
    case grpc
    /// A length-prefixed stream over TLS (`RingFrame`), on the node's port plus `dataPortOffset`.
    case framed
}

/// The static ring: its members in pipeline order (the first is the head, which watches the folder and keeps
/// the catalog), this node's name, the slice plan, and the transport's limits and timers.
public struct RingConfig: Sendable, Equatable {
    public var members: [RingMember]
    public var node: String
    /// Slice boundaries in units: `members.count + 1` increasing values from 0 to the model's unit count.
    public var plan: [Int]
    public var encoding = WireEncoding.float16
    public var transport = RingDataTransport.framed
    /// With the framed transport, each node's data port is its gRPC port plus this.
    public var dataPortOffset = 100
    public var security: RingSecurity
    /// Batches the head lets into the ring before it waits for results.
    public var maxInFlight = 3
    /// Batches a node queues before it stops reading from its upstream link.
    public var queueCapacity = 4
    /// How often the head asks each node for its stats (and so notices a silent one).
    public var probeSeconds = 0.5
    /// How long one probe may take.
    public var probeTimeoutSeconds = 1.0
    /// Failed probes in a row after which a node is bypassed.
    public var failAfter = 2
    /// A batch without a result after this long is sent again (by id; the head keeps the first result).
    public var resendSeconds = 10.0
    /// Where the node reads its temperature and the Raspberry Pi firmware's throttling flags (`/sys`; the ring
    /// experiment points it at a folder it writes to drive a temperature ramp).
    public var sysfsRoot = "/sys"

    /// Creates a ring configuration.
    public init(members: [RingMember], node: String, plan: [Int], security: RingSecurity) {
        self.members = members
        self.node = node
        self.plan = plan
        self.security = security
    }

    /// The head: the first member.
    public var head: RingMember { members[0] }
    /// Whether this node is the head.
    public var isHead: Bool { node == members[0].name }
    /// This node's position in the ring.
    public var index: Int? { members.firstIndex { $0.name == node } }

    /// The members' names: a peer whose certificate names anything else is refused.
    public var memberNames: Set<String> { Set(members.map(\.name)) }

    /// The member called `name`.
    public func member(_ name: String) -> RingMember? { members.first { $0.name == name } }

    /// Checks the configuration against a model with `unitCount` units.
    /// - Throws: `RingError` with `badConfig` naming what is wrong.
    public func validate(unitCount: Int) throws {
        guard !members.isEmpty else { throw RingError(.badConfig, "ring.nodes lists no node") }
        let names = members.map(\.name)
        guard Set(names).count == names.count else { throw RingError(.badConfig, "ring.nodes repeats a name") }
        guard index != nil else {
            let listed = names.joined(separator: ", ")
            throw RingError(
                .badConfig, "this node, \"\(node)\", is not in ring.nodes (\(listed)); set ring.node or --node")
        }
        guard plan.count == members.count + 1, plan.first == 0, plan.last == unitCount,
            zip(plan, plan.dropFirst()).allSatisfy({ $0 < $1 })
        else {
            throw RingError(
                .badConfig,
                "ring.plan \(plan) must be \(members.count + 1) increasing unit boundaries from 0 to \(unitCount)")
        }
        if transport == .framed {
            var taken: [String: String] = [:]
            for member in members {
                guard member.port + dataPortOffset <= 65_535 else {
                    throw RingError(
                        .badConfig,
                        "\(member.name)'s data port, \(member.port) + ring.dataPortOffset \(dataPortOffset), is above 65535"
                    )
                }
                for (port, use) in [(member.port, "gRPC port"), (member.port + dataPortOffset, "data port")] {
                    let key = "\(member.host):\(port)"
                    if let other = taken[key] {
                        throw RingError(
                            .badConfig,
                            "\(member.name)'s \(use) \(key) is also \(other); choose other ports or ring.dataPortOffset"
                        )
                    }
                    taken[key] = "\(member.name)'s \(use)"
                }
            }
        }
    }
}
