import GRPCCore
import GRPCNIOTransportHTTP2
import RingWire

extension RingMember {
    /// A client transport to this member. An IP literal is dialled as an address, not as a DNS name: TLS's
    /// server name indication may not carry an IP address (NIOSSL refuses it).
    func clientTransport(
        security: HTTP2ClientTransport.Posix.TransportSecurity,
        config: HTTP2ClientTransport.Posix.Config = .defaults
    ) throws -> HTTP2ClientTransport.Posix {
        if let bytes = RingAuthority.ipAddressBytes(host) {
            if bytes.count == 4 {
                return try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: host, port: port), transportSecurity: security, config: config)
            }
            return try HTTP2ClientTransport.Posix(
                target: .ipv6(address: host, port: port), transportSecurity: security, config: config)
        }
        return try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port), transportSecurity: security, config: config)
    }
}
