import Testing

@testable import Appliance

/// trapline's reader of the YAML its config is written in: what it reads, what it refuses and on which line.
@Suite struct YAMLSubsetTests {
    @Test func nestedKeysScalarsAndLists() throws {
        let text = """
            # a comment
            ---
            watch:
              folder: /srv/camera traps   # a trailing comment
              pollSeconds: 10
            ring:
              nodes: ["pi1=10.0.0.11:7401", 'pi2=[fd00::1]:7401']
              plan: [0, 9, 18]
              empty: []
              deep:
                deeper:
                  key: "quoted # not a comment"
            http:
              passwordHash: 'it''s:$pbkdf2#1'
              escaped: "tab\\there \\u00e9 \\"q\\""
              user:
            labels:
              taxa:
                - Vulpes vulpes
                - "Canis lupus"
              topK: 5\r
            """
        let document = try YAMLSubset(parsing: text)
        #expect(
            document.values == [
                "watch.folder": .scalar("/srv/camera traps"), "watch.pollSeconds": .scalar("10"),
                "ring.nodes": .list(["pi1=10.0.0.11:7401", "pi2=[fd00::1]:7401"]),
                "ring.plan": .list(["0", "9", "18"]),
                "ring.empty": .list([]), "ring.deep.deeper.key": .scalar("quoted # not a comment"),
                "http.passwordHash": .scalar("it's:$pbkdf2#1"), "http.escaped": .scalar("tab\there é \"q\""),
                "http.user": .scalar(""), "labels.taxa": .list(["Vulpes vulpes", "Canis lupus"]),
                "labels.topK": .scalar("5"),
            ])
    }

    @Test(arguments: [
        ("watch:\n\tfolder: /x\n", 2, "tabs"),
        ("watch:\n  folder: &a /x\n", 2, "anchors"),
        ("watch:\n  folder: *a\n", 2, "aliases"),
        ("watch: {folder: /x}\n", 1, "flow mappings"),
        ("watch:\n  folder: |\n    /x\n", 2, "multi-line"),
        ("watch:\n  folder: \"/x\n", 2, "not closed"),
        ("watch:\n  folder: /x\n  folder: /y\n", 3, "given twice"),
        ("watch:\n  folder: /x\nwatch:\n  mode: poll\n", 3, "given twice"),
        ("watch:\n    folder: /x\n  mode: poll\n", 3, "indentation"),
        ("watch:\n  folder /x\n", 2, "key: value"),
        ("ring:\n  plan: [0, 9\n", 2, "one line"),
        ("ring:\n  plan: [0, [9]]\n", 2, "single values"),
        ("- a\n", 1, "list item"),
        ("ring:\n  nodes:\n    - a: b\n", 3, "single value"),
        ("a: 1\n---\nb: 2\n", 2, "one document"),
        ("a: \"\\q\"\n", 1, "escape"),
    ])
    func refusedWithItsLine(text: String, line: Int, words: String) {
        #expect {
            try YAMLSubset(parsing: text)
        } throws: { error in
            guard let error = error as? YAMLSubsetError else { return false }
            return error.line == line && error.description.firstRange(of: words) != nil
        }
    }

    @Test func scalarsAreTypedAsYAML11Does() {
        #expect(YAMLScalar.int("42") == 42 && YAMLScalar.int("-7") == -7 && YAMLScalar.int("1_000") == 1000)
        #expect(YAMLScalar.int("0x1F") == 31 && YAMLScalar.int("0o17") == 15)
        #expect(YAMLScalar.int("2.5") == nil && YAMLScalar.int("lots") == nil && YAMLScalar.int("") == nil)
        #expect(YAMLScalar.double("0.5") == 0.5 && YAMLScalar.double("2") == 2 && YAMLScalar.double("1e3") == 1000)
        #expect(YAMLScalar.double("-.5") == -0.5 && YAMLScalar.double(".inf") == .infinity)
        #expect(YAMLScalar.double("nan") == nil && YAMLScalar.double("0x1p3") == nil)
        #expect(YAMLScalar.double(".nan")?.isNaN == true)
        #expect(YAMLScalar.bool("off") == false && YAMLScalar.bool("Yes") == true && YAMLScalar.bool("TRUE") == true)
        #expect(YAMLScalar.bool("tRUE") == nil && YAMLScalar.bool("1") == nil)
    }
}
