import Crypto
import FoundationEssentials

/// Password hashes for the page's basic authentication: PBKDF2-HMAC-SHA256, written as
/// `pbkdf2-sha256$ITERATIONS$SALT$KEY` (salt and key in base64), so only the hash sits in the config.
public enum PasswordHash {
    public static let iterations = 200_000

    /// A new hash of `password` with a random 16-byte salt.
    public static func make(_ password: String, iterations: Int = PasswordHash.iterations) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = derive(Array(password.utf8), salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// Whether `text` is a hash this type can check.
    public static func isValid(_ text: String) -> Bool { parse(text) != nil }

    /// Whether `password` matches `hash` (compared in constant time).
    public static func verify(_ password: String, hash: String) -> Bool {
        guard let (iterations, salt, key) = parse(hash) else { return false }
        let candidate = derive(Array(password.utf8), salt: salt, iterations: iterations)
        guard candidate.count == key.count else { return false }
        return zip(candidate, key).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func parse(_ text: String) -> (Int, [UInt8], [UInt8])? {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]),
            (1_000...10_000_000).contains(iterations), let salt = Data(base64Encoded: String(parts[2])),
            let key = Data(base64Encoded: String(parts[3])), !salt.isEmpty, key.count == 32
        else { return nil }
        return (iterations, Array(salt), Array(key))
    }

    /// PBKDF2 (RFC 8018) with HMAC-SHA256, one 32-byte block.
    static func derive(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var block = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<iterations {
            block = Array(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for i in result.indices { result[i] ^= block[i] }
        }
        return result
    }
}
