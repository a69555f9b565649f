import GRPCCore
import GRPCNIOTransportHTTP2
import NIOSSL
import RingWire
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// One node's identity in the ring, checked before any socket opens: the CA, the node's certificate (whose
/// common name must be the node's name) and its private key.
public struct RingCredentials: Sendable {
    public let folder: String
    public let node: String

    /// Loads and checks the files.
    /// - Parameters:
    ///   - folder: The credentials folder (`ca.pem`, `<node>.pem`, `<node>.key`).
    ///   - node: This node's name.
    /// - Throws: `RingError` with `credentials` naming the missing or wrong file.
    public init(folder: String, node: String) throws {
        self.folder = folder
        self.node = node
        let caPath = RingAuthority.caCertificate(folder)
        let certPath = RingAuthority.certificate(folder, node: node)
        let keyPath = RingAuthority.key(folder, node: node)
        for path in [caPath, certPath, keyPath] where !FileManagerLite.exists(path) {
            throw RingError(
                .credentials,
                "\(path) is missing: run `trapline ring init` and copy this node's files (see docs/ring.md)")
        }
        var status = stat()
        if stat(keyPath, &status) == 0, status.st_mode & 0o077 != 0 {
            let mode = String(status.st_mode & 0o777, radix: 8)
            throw RingError(
                .credentials, "\(keyPath) is readable by other users (mode \(mode)): run chmod 600 \(keyPath)")
        }
        let cert: Certificate
        do {
            _ = try Certificate(pemEncoded: try FileManagerLite.read(caPath))
            cert = try Certificate(pemEncoded: try FileManagerLite.read(certPath))
            _ = try Certificate.PrivateKey(pemEncoded: try FileManagerLite.read(keyPath))
        } catch let error as RingError {
            throw error
        } catch {
            throw RingError(.credentials, "cannot parse the credentials in \(folder): \(error)")
        }
        guard Self.commonName(cert) == node else {
            throw RingError(
                .credentials,
                "\(certPath) was issued to \"\(Self.commonName(cert) ?? "?")\", not to this node, \"\(node)\"")
        }
    }

    /// The server side: present this node's certificate, require a client certificate from the ring's CA.
    var server: HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.file(path: RingAuthority.certificate(folder, node: node), format: .pem)],
            privateKey: .file(path: RingAuthority.key(folder, node: node), format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.file(path: RingAuthority.caCertificate(folder), format: .pem)])
            tls.clientCertificateVerification = .noHostnameVerification
        }
    }

    /// The client side: present this node's certificate, accept only servers with a certificate from the ring's
    /// CA (the ring's peers are then checked by name).
    var client: HTTP2ClientTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.file(path: RingAuthority.certificate(folder, node: node), format: .pem)],
            privateKey: .file(path: RingAuthority.key(folder, node: node), format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.file(path: RingAuthority.caCertificate(folder), format: .pem)])
            tls.serverCertificateVerification = .noHostnameVerification
        }
    }

    /// A TLS context for the framed activation stream, with the same rules as the gRPC side: this node's
    /// certificate, peers only from the ring's CA, checked by name after the handshake (not by host name).
    /// - Throws: `RingError` with `credentials` when NIOSSL cannot load the files.
    func tlsContext(server: Bool) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(RingAuthority.certificate(folder, node: node)).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = NIOSSLPrivateKeySource.privateKey(
                try NIOSSLPrivateKey(file: RingAuthority.key(folder, node: node), format: .pem))
            let roots = NIOSSLTrustRoots.certificates(
                try NIOSSLCertificate.fromPEMFile(RingAuthority.caCertificate(folder)))
            var configuration =
                server
                ? TLSConfiguration.makeServerConfigurationWithMTLS(
                    certificateChain: chain, privateKey: key, trustRoots: roots)
                : TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = chain
            configuration.privateKey = key
            configuration.trustRoots = roots
            configuration.certificateVerification = .noHostnameVerification
            configuration.minimumTLSVersion = .tlsv13
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw RingError(.credentials, "cannot set up TLS from \(folder): \(error)")
        }
    }

    /// The certificate's common name.
    static func commonName(_ certificate: Certificate) -> String? {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }
}

/// Refuses every call whose TLS peer is not a member of the ring by name: a certificate from the ring's CA
/// for a node that has since left the configuration is not enough.
struct RingMembershipInterceptor: ServerInterceptor {
    let members: Set<String>

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let peer = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
        guard let peer, let name = RingCredentials.commonName(peer), members.contains(name) else {
            throw RPCError(code: .permissionDenied, message: "peer is not a member of this ring")
        }
        return try await next(request, context)
    }
}
