import Foundation
import TestSupport
import Testing

@testable import Catalog

/// A catalog written by the previous release upgrades in place: ImageNet descriptions move out of
/// `scientificName`, the views group by scientific name and rank, and people and vehicles can be recorded.
@Suite struct CatalogMigrationTests {
    static let fixture = Fixtures.repositoryRoot.appendingPathComponent("Tests/CatalogTests/Fixtures/catalog-v2.db")
        .path

    @Test func aVersion2CatalogUpgradesInPlace() throws {
        try withTemporaryDirectory { dir in
            let path = dir.file("catalog.db")
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
            #expect(try sqlite(path, "SELECT COUNT(*) FROM grdb_migrations") == [["3"]])
            let before = try sqlite(
                path, "SELECT mediaID, observationType, scientificName FROM observations ORDER BY 1")

            let catalog = try Catalog(path: path)
            #expect(
                try sqlite(path, "SELECT identifier FROM grdb_migrations ORDER BY rowid").suffix(2) == [
                    ["v3-taxonomy"], ["v4-boxes-and-events"],
                ])
            // The old rows have no boxes and were labelled whole, with no burst known: 0 frames.
            #expect(
                try sqlite(
                    path,
                    "SELECT COUNT(*) FROM observations WHERE bboxX IS NULL AND burstFrames = 0 AND contextFrames = 0")
                    == [["4"]])
            #expect(try sqlite(path, "SELECT COUNT(*) FROM boxes") == [["0"]])
            #expect(try sqlite(path, "SELECT COUNT(*) FROM event_observations") == [["0"]])
            let after = try sqlite(
                path,
                """
                SELECT mediaID, observationType, COALESCE(vernacularName, ''), COALESCE(scientificName, 'NULL'),
                       COALESCE(taxonRank, 'NULL')
                FROM observations ORDER BY 1
                """)
            #expect(after.count == 4 && before.count == 4)
            for (old, new) in zip(before, after) {
                // Same observation and type; the old name is now the vernacular name, with no Latin name or rank.
                #expect(Array(new[0...1]) == Array(old[0...1]))
                #expect(new[2] == old[2] && new[3] == "NULL" && new[4] == "NULL")
            }
            #expect(after.contains { $0[2].hasPrefix("German shepherd") })
            #expect(
                try sqlite(path, "SELECT status, COUNT(*) FROM media GROUP BY status ORDER BY 1") == [
                    ["failed", "1"], ["labeled", "4"],
                ])
            #expect(try sqlite(path, "PRAGMA foreign_key_check").isEmpty)
            #expect(try sqlite(path, "PRAGMA integrity_check") == [["ok"]])

            // The upgraded catalog takes new labels of every type, and the views group them by name and rank.
            let mediaIDs = try sqlite(path, "SELECT mediaID FROM media WHERE status = 'labeled' LIMIT 1")
            _ = try sqlite(
                path, "UPDATE observations SET observationType = 'human' WHERE mediaID = '\(mediaIDs[0][0])'")
            #expect(
                throws: (any Error).self,
                "the CHECK constraint still refuses unknown types"
            ) { _ = try sqlite(path, "UPDATE observations SET observationType = 'ghost'") }
            let arrival = CatalogTests.arrival("new1", path: "/in/B01/fox.jpg", deployment: "B01")
            #expect(try catalog.register(arrival) == .new)
            let fox = LabelRecord(
                mediaID: "new1", observationType: "animal", scientificName: "Vulpes vulpes", taxonRank: "species",
                vernacularName: "red fox", classIndex: 277, probability: 0.8, animalProbability: 0.9,
                topClassesJSON: "[]")
            try catalog.commit(CatalogTests.batch([fox]), eventGapSeconds: 60)
            #expect(
                try sqlite(
                    path,
                    "SELECT scientificName, taxonRank, vernacularName, images FROM species_counts WHERE scientificName IS NOT NULL"
                ) == [["Vulpes vulpes", "species", "red fox", "1"]])
            #expect(
                try sqlite(path, "SELECT taxonRank FROM latest_observations WHERE scientificName = 'Vulpes vulpes'")
                    == [["species"]])
            let summary = try catalog.summary()
            #expect(summary.species.contains { $0.name == "Vulpes vulpes (species, red fox)" })
            #expect(summary.species.contains { $0.name.hasPrefix("fox squirrel") }, "old rows by their old name")
        }
    }
}
