import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import RingWire

/// Asks ring members for their stats from outside the ring (`trapline ring status`), with this node's
/// credentials.
public enum RingQuery {
    /// Each member's stats, or the error that kept it from answering.
    /// - Parameters:
    ///   - config: The ring; `node` names the identity to present.
    ///   - timeoutSeconds: How long each member may take.
    /// - Returns: One entry per member, in ring order.
    /// - Throws: `RingError` when this node's credentials are missing or invalid.
    public static func stats(_ config: RingConfig, timeoutSeconds: Double = 2) async throws
        -> [(member: RingMember, stats: Result<Trapline_Ring_V1_NodeStats, any Error>)]
    {
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        switch config.security {
        case .plaintext: security = .plaintext
        case .mutualTLS(let folder): security = try RingCredentials(folder: folder, node: config.node).client
        }
        return await withTaskGroup(of: (Int, Result<Trapline_Ring_V1_NodeStats, any Error>).self) { group in
            for (index, member) in config.members.enumerated() {
                group.addTask {
                    do {
                        let transport = try member.clientTransport(security: security)
                        let stats = try await withGRPCClient(transport: transport) { client in
                            var options = CallOptions.defaults
                            options.timeout = .milliseconds(Int64(timeoutSeconds * 1000))
                            return try await Trapline_Ring_V1_Control.Client(wrapping: client).stats(
                                Trapline_Ring_V1_StatsRequest(), options: options)
                        }
                        return (index, .success(stats))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<Trapline_Ring_V1_NodeStats, any Error>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map { (config.members[$0.0], $0.1) }
        }
    }
}
