import ArgumentParser
import StatusPage

struct PasswordHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password-hash",
        abstract: "Hash a password for the status page's basic authentication (http.passwordHash).",
        discussion: """
            Reads the password from the first line of standard input (so it stays out of the shell history and the \
            process list) and prints a PBKDF2-HMAC-SHA256 hash with a random salt. Put it in the configuration as \
            http.passwordHash, next to http.user. Example: \
            printf '%s' 'a long passphrase' | trapline password-hash
            """
    )

    func run() throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("Give the password on standard input.")
        }
        print(PasswordHash.make(line))
    }
}
