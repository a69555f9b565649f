import Foundation
import TestSupport
import Testing

/// `trapline classify` and `trapline model info`, run as a user runs them.
@Suite struct ClassifyCommandTests {
    static let squirrel = "/usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg"
    static let model = Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path

    @Test func classifiesARealPhotoAndKeepsGoingPastABadOne() throws {
        try withTemporaryDirectory { dir in
            let broken = dir.file("broken.jpg")
            try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: broken))
            let result = try runCommand(
                InspectCommandTests.binary(),
                [
                    "classify", "--json", "--top", "3", "--model", Self.model, try Fixtures.system(Self.squirrel),
                    broken,
                    try Fixtures.wallpaper("FallenLeaf"),
                ],
                check: false
            )
            #expect(result.status == 1)
            let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
            let images = try #require(json["images"] as? [[String: Any]])
            #expect(images.count == 3)
            let top = try #require(images[0]["top"] as? [[String: Any]])
            #expect(top.count == 3)
            #expect(top.first?["index"] as? Int == 335)  // fox squirrel
            #expect(images[0]["blank"] as? Bool == false)
            // The written label: fox squirrel alone holds 0.69, so the roll-up stops at its species.
            #expect(images[0]["observationType"] as? String == "animal")
            let label = try #require(images[0]["label"] as? [String: Any])
            #expect(label["scientificName"] as? String == "Sciurus niger" && label["taxonRank"] as? String == "species")
            #expect(label["vernacularName"] as? String == "fox squirrel")
            #expect((images[1]["error"] as? [String: Any])?["code"] as? String == "not-jpeg")
            #expect(images[2]["ok"] as? Bool == true)
            #expect(images[2]["blank"] as? Bool == true)  // a leaf on the ground: no animal
        }
    }

    @Test func jsonAndTextAgreeAtEveryLevel() throws {
        for level in ["0", "0.25", "0.5", "0.75"] {
            let arguments = [
                "classify", "--level", level, "--top", "1", "--model", Self.model, try Fixtures.system(Self.squirrel),
            ]
            let text = try runCommand(InspectCommandTests.binary(), arguments)
            let json = try runCommand(InspectCommandTests.binary(), arguments + ["--json"])
            let document = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
            #expect(document["level"] as? Double == Double(level))
            let image = try #require((document["images"] as? [[String: Any]])?.first)
            let name = try #require((image["top"] as? [[String: Any]])?.first?["name"] as? String)
            #expect(text.output.contains(name), "level \(level)")
        }
    }

    /// `--levels` runs one option per slice of the plan with that many slices: all at full width is `--level 0`,
    /// a mixed vector with skip is reported by name, and an unknown option or plan is refused with exit 64.
    @Test func mixedOptionsPerSliceByHand() throws {
        let squirrel = try Fixtures.system(Self.squirrel)
        func document(_ extra: [String]) throws -> [String: Any] {
            let result = try runCommand(
                InspectCommandTests.binary(),
                ["classify", "--json", "--top", "1", "--model", Self.model, squirrel] + extra)
            return try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        }
        func top(_ document: [String: Any]) -> [String: Any]? {
            ((document["images"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])?.first
        }
        let plain = try document([])
        let full = try document(["--levels", "w1,w1,w1,w1"])
        #expect(full["levels"] as? [String] == ["w1", "w1", "w1", "w1"])
        #expect(top(full)?["index"] as? Int == top(plain)?["index"] as? Int)
        #expect(top(full)?["probability"] as? Double == top(plain)?["probability"] as? Double)
        let mixed = try document(["--levels", "w1,skip,0.5,w1"])
        #expect(mixed["levels"] as? [String] == ["w1", "skip", "w0.5", "w1"])
        #expect((mixed["images"] as? [[String: Any]])?.first?["ok"] as? Bool == true)
        let unknown = try runCommand(
            InspectCommandTests.binary(), ["classify", "--model", Self.model, "--levels", "w1,w0.3,w1,w1", squirrel],
            check: false)
        #expect(unknown.status == 64 && unknown.errorOutput.contains("\"w0.3\" (slice 1) is not an option"))
        let noPlan = try runCommand(
            InspectCommandTests.binary(),
            ["classify", "--model", Self.model, "--levels", String(repeating: "w1,", count: 9) + "w1", squirrel],
            check: false)
        #expect(noPlan.status == 64 && noPlan.errorOutput.contains("no 10-node plan"))
    }

    @Test func theLabelRollsUpAndASpeciesListRestrictsIt() throws {
        // darknet's eagle: kite 0.33 and bald eagle 0.29, neither reaches 0.5; their family, Accipitridae, does.
        let eagle = try Fixtures.system("/usr/share/darknet/data/eagle.jpg")
        let open = try runCommand(InspectCommandTests.binary(), ["classify", "--model", Self.model, eagle])
        #expect(open.output.contains("animal  Accipitridae (family)"), "\(open.output)")
        // darknet's horses: the top class is bighorn at 0.14.
        let horses = try Fixtures.system("/usr/share/darknet/data/horses.jpg")
        // A site that lists only horses and foxes: the sheep-like classes' mass cannot go to Artiodactyla, which
        // is not on the list; it climbs to the class both belong to.
        let listed = try runCommand(
            InspectCommandTests.binary(),
            ["classify", "--model", Self.model, "--taxa", "Equidae,Vulpes vulpes", horses])
        #expect(listed.output.contains("animal  Mammalia (class)"), "\(listed.output)")
        // The squirrel with squirrels listed keeps its species.
        let squirrel = try runCommand(
            InspectCommandTests.binary(),
            ["classify", "--model", Self.model, "--taxa", "Sciuridae", try Fixtures.system(Self.squirrel)])
        #expect(squirrel.output.contains("animal  Sciurus niger (species, fox squirrel)"), "\(squirrel.output)")
        let stricter = try runCommand(
            InspectCommandTests.binary(), ["classify", "--model", Self.model, "--rollup-threshold", "0.9", horses])
        #expect(stricter.output.contains("animal  Animalia (kingdom, animal)"), "\(stricter.output)")
        let unknown = try runCommand(
            InspectCommandTests.binary(), ["classify", "--model", Self.model, "--taxa", "Equidea", horses],
            check: false)
        #expect(unknown.status == 64 && unknown.errorOutput.contains("\"Equidea\" is not a taxon"))
    }

    @Test func unknownLevelIsAUsageError() throws {
        let result = try runCommand(
            InspectCommandTests.binary(), ["classify", "--level", "0.3", "--model", Self.model, Self.squirrel],
            check: false
        )
        #expect(result.status == 64)
        #expect(result.errorOutput.contains("0.25"))
    }

    @Test func badModelFileIsAClearError() throws {
        try withTemporaryDirectory { dir in
            let fake = dir.file("model.safetensors")
            try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: fake))
            let result = try runCommand(
                InspectCommandTests.binary(), ["classify", "--model", fake, Self.squirrel], check: false)
            #expect(result.status != 0)
            #expect(result.errorOutput.contains("model.safetensors"))
        }
    }

    @Test func modelInfoShowsLevelsPlansAndCosts() throws {
        let result = try runCommand(InspectCommandTests.binary(), ["model", "info", Self.model])
        #expect(result.output.contains("prune levels   0.0, 0.125, 0.25, 0.5, 0.75"))
        #expect(result.output.contains("4-node plan"))
        #expect(result.output.contains("multiply-adds"))
        #expect(result.output.contains("Apache-2.0"))
    }
}
