import Testing

@testable import StatusPage

@Suite struct PasswordHashTests {
    @Test func aHashVerifiesItsPasswordOnly() {
        let hash = PasswordHash.make("correct horse", iterations: 2_000)
        #expect(PasswordHash.isValid(hash))
        #expect(PasswordHash.verify("correct horse", hash: hash))
        #expect(!PasswordHash.verify("correct hors", hash: hash))
        #expect(!PasswordHash.verify("correct horse", hash: "pbkdf2-sha256$2000$AAAA$AAAA"))
        #expect(!PasswordHash.isValid("plaintext"))
    }

    /// RFC 7914 section 11 gives PBKDF2-HMAC-SHA256 test vectors: P = "passwd", S = "salt", c = 1, first 32 bytes.
    @Test func pbkdf2MatchesRFC7914() {
        let key = PasswordHash.derive(Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1)
        let hex = key.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(hex.joined() == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
    }
}
