import FoundationEssentials

/// `datapackage.json` of a Camtrap DP 1.0 package.
struct CamtrapDPPackage: Encodable {
    struct Resource: Encodable {
        let name: String
        let path: String
        let profile = "tabular-data-resource"
        let format = "csv"
        let mediatype = "text/csv"
        let encoding = "utf-8"
        let schema: String
    }

    struct Contributor: Encodable {
        let title: String
        let role = "contact"
    }

    struct Project: Encodable {
        let title: String
        let samplingDesign = "opportunistic"
        let captureMethod = ["activityDetection"]
        let individualAnimals = false
        let observationLevel = ["media"]
    }

    struct Spatial: Encodable {
        let type = "Polygon"
        let bbox: [Double]
        let coordinates: [[[Double]]]
    }

    struct Temporal: Encodable {
        let start: String
        let end: String
    }

    struct Taxon: Encodable {
        let scientificName: String
        /// Camtrap DP allows kingdom...species and subspecies; a rank outside those is left out.
        let taxonRank: String?
        /// `{"eng": "red fox"}`.
        let vernacularNames: [String: String]?

        init(_ name: String, rank: String?, vernacular: String?) {
            scientificName = name
            let allowed = ["kingdom", "phylum", "class", "order", "family", "genus", "species", "subspecies"]
            taxonRank = rank.flatMap { allowed.contains($0) ? $0 : nil }
            vernacularNames = vernacular.flatMap { $0.isEmpty ? nil : ["eng": $0] }
        }
    }

    let profile = "\(CamtrapDPExport.base)/camtrap-dp-profile.json"
    let name: String
    let title: String
    let created: String
    let contributors: [Contributor]
    let project: Project
    let spatial: Spatial
    let temporal: Temporal
    let taxonomic: [Taxon]
    let resources: [Resource]

    init(tables: CamtrapDPExport.Tables, options: CamtrapDPOptions, created: String) {
        name = "trapline-export"
        title = options.title
        self.created = created
        contributors = [Contributor(title: options.contact)]
        project = Project(title: options.title)
        let b = tables.box
        spatial = Spatial(
            bbox: [b.minLon, b.minLat, b.maxLon, b.maxLat],
            coordinates: [
                [
                    [b.minLon, b.minLat], [b.maxLon, b.minLat], [b.maxLon, b.maxLat], [b.minLon, b.maxLat],
                    [b.minLon, b.minLat],
                ]
            ]
        )
        temporal = Temporal(start: String(tables.start.prefix(10)), end: String(tables.end.prefix(10)))
        taxonomic = tables.taxa.keys.sorted().map {
            Taxon($0, rank: tables.taxa[$0]?.rank, vernacular: tables.taxa[$0]?.vernacular)
        }
        resources = ["deployments", "media", "observations"].map {
            Resource(name: $0, path: "\($0).csv", schema: "\(CamtrapDPExport.base)/\($0)-table-schema.json")
        }
    }
}

extension Catalog {
    /// Writes the catalog as a Camtrap DP 1.0 data package into `folder` (created if missing).
    /// - Parameters:
    ///   - folder: Where `datapackage.json` and the three CSV files go.
    ///   - options: The cameras' UTC offset, a title and contact, the root for relative paths.
    /// - Returns: Deployments, media and observations written.
    /// - Throws: `CatalogError` with `export`, naming what is missing (coordinates, a UTC offset).
    @discardableResult
    public func exportCamtrapDP(to folder: String, options: CamtrapDPOptions) throws -> (
        deployments: Int, media: Int, observations: Int, eventObservations: Int
    ) {
        let tables = try read("Camtrap DP export") { db in try CamtrapDPExport.build(db, options) }
        guard !tables.start.isEmpty else {
            throw CatalogError(.export, "nothing to export: no labelled or failed media yet")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let package = CamtrapDPPackage(tables: tables, options: options, created: Catalog.iso(Catalog.now()))
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try encoder.encode(package).write(to: URL(fileURLWithPath: folder + "/datapackage.json"))
            for (name, writer) in [
                ("deployments", tables.deployments), ("media", tables.media), ("observations", tables.observations),
            ] {
                try Data(writer.text.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(name).csv"))
            }
        } catch {
            throw CatalogError(.export, "cannot write the package to \(folder)", cause: error)
        }
        func rows(_ writer: CSVWriter) -> Int { writer.text.split(separator: "\r\n").count - 1 }
        let all = rows(tables.observations)
        return (rows(tables.deployments), rows(tables.media), all - tables.eventObservations, tables.eventObservations)
    }
}
