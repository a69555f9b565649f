import Crypto
import FoundationEssentials
import RingWire
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// The ring's own certificate authority: `trapline ring init` makes it once, then a key and a certificate per
/// node, all ECDSA P-256. Node certificates name the node (common name) and its address (subject alternative
/// names), and serve both as TLS server and client identities, because every node is both.
public enum RingAuthority {
    /// What `create` wrote or kept.
    public struct Outcome: Sendable, Equatable {
        public var created: [String]
        public var kept: [String]
    }

    /// File names inside a credentials folder.
    public static func caCertificate(_ folder: String) -> String { "\(folder)/ca.pem" }
    public static func caKey(_ folder: String) -> String { "\(folder)/ca.key" }
    public static func certificate(_ folder: String, node: String) -> String { "\(folder)/\(node).pem" }
    public static func key(_ folder: String, node: String) -> String { "\(folder)/\(node).key" }

    /// Creates the CA (unless the folder has one) and a certificate for every member that has none.
    /// Re-running it after adding a node to the ring issues that node's certificate under the same CA.
    /// - Parameters:
    ///   - members: The ring's members.
    ///   - folder: Where the files go (created 0700); keys are written 0600.
    ///   - years: Validity of new certificates.
    /// - Returns: The files written and the ones kept.
    /// - Throws: `RingError` with `credentials` when a file cannot be read or written.
    public static func create(members: [RingMember], folder: String, years: Int = 20) throws -> Outcome {
        var outcome = Outcome(created: [], kept: [])
        try makeFolder(folder)
        let (caCert, caPrivateKey) = try loadOrCreateCA(folder, years: years, outcome: &outcome)
        for member in members {
            let certPath = certificate(folder, node: member.name)
            if FileManagerLite.exists(certPath) {
                outcome.kept.append(certPath)
                continue
            }
            let nodeKey = P256.Signing.PrivateKey()
            let cert = try issue(member, publicKey: nodeKey.publicKey, ca: caCert, caKey: caPrivateKey, years: years)
            try write(nodeKey.pemRepresentation, to: key(folder, node: member.name), mode: 0o600)
            try write(try cert.serializeAsPEM().pemString, to: certPath, mode: 0o644)
            outcome.created += [certPath, key(folder, node: member.name)]
        }
        return outcome
    }

    private static func loadOrCreateCA(_ folder: String, years: Int, outcome: inout Outcome) throws
        -> (Certificate, P256.Signing.PrivateKey)
    {
        let certPath = caCertificate(folder)
        let keyPath = caKey(folder)
        if FileManagerLite.exists(certPath) {
            guard FileManagerLite.exists(keyPath) else {
                throw RingError(
                    .credentials, "\(certPath) exists but \(keyPath) does not: new node certificates need the CA key")
            }
            do {
                let cert = try Certificate(pemEncoded: try FileManagerLite.read(certPath))
                let key = try P256.Signing.PrivateKey(pemRepresentation: try FileManagerLite.read(keyPath))
                outcome.kept += [certPath, keyPath]
                return (cert, key)
            } catch let error as RingError {
                throw error
            } catch {
                throw RingError(.credentials, "cannot read the ring CA in \(folder): \(error)")
            }
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("trapline")
            CommonName("trapline ring CA")
        }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: now - 3600,
            notValidAfter: now + Double(years) * 365.25 * 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        try write(key.pemRepresentation, to: keyPath, mode: 0o600)
        try write(try cert.serializeAsPEM().pemString, to: certPath, mode: 0o644)
        outcome.created += [certPath, keyPath]
        return (cert, key)
    }

    private static func issue(
        _ member: RingMember, publicKey: P256.Signing.PublicKey, ca: Certificate, caKey: P256.Signing.PrivateKey,
        years: Int
    ) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName("trapline")
            CommonName(member.name)
        }
        var names: [GeneralName] = [.dnsName(member.name)]
        if let address = ipAddressBytes(member.host) {
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address))))
        } else if member.host != member.name {
            names.append(.dnsName(member.host))
        }
        let now = Date()
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(publicKey),
            notValidBefore: now - 3600, notValidAfter: now + Double(years) * 365.25 * 86_400, issuer: ca.subject,
            subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )
    }

    /// The bytes of an IPv4 or IPv6 literal; nil for a host name.
    static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// Creates the credentials folder 0700, and any missing folders above it with the usual mode (0777 less the
    /// umask), so that `ring init` works in a fresh checkout where `local-ring/` does not exist yet.
    private static func makeFolder(_ folder: String) throws {
        let parent = folder.lastIndex(of: "/").map { String(folder[..<$0]) } ?? ""
        if !parent.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                throw RingError(.credentials, "cannot create the folder \(parent) for the credentials: \(error)")
            }
        }
        if mkdir(folder, 0o700) != 0, errno != EEXIST {
            throw RingError(.credentials, "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw RingError(.credentials, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fchmod(fd, mode) == 0 else {
            throw RingError(.credentials, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// The two file operations the credentials need, without Foundation's FileManager (and its ICU data).
enum FileManagerLite {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func read(_ path: String) throws -> String {
        guard let file = fopen(path, "rb") else {
            throw RingError(.credentials, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
