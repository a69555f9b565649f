/// The catalog's schema, versioned by `Migrator` (recorded in `grdb_migrations`). Table and column names
/// follow Camtrap DP 1.0 where it has them, so `sqlite3 -csv` output maps straight onto its CSV files.
enum Migrations {
    static var migrator: Migrator {
        var migrator = Migrator()
        migrator.registerMigration("v1-camtrap-tables", migrate: createTables)
        migrator.registerMigration("v1-views", migrate: createViews)
        migrator.registerMigration("v2-deployment-coordinates") { db in
            // Camtrap DP requires where each camera stood; people fill these in with sqlite3.
            try db.execute(
                sql: """
                    ALTER TABLE deployments ADD COLUMN latitude REAL;
                    ALTER TABLE deployments ADD COLUMN longitude REAL;
                    ALTER TABLE deployments ADD COLUMN coordinateUncertainty INTEGER;
                    """
            )
        }
        migrator.registerMigration("v3-taxonomy", migrate: addTaxonomy)
        migrator.registerMigration("v4-boxes-and-events", migrate: addBoxesAndEvents)
        return migrator
    }

    /// Scientific names with their rank, vernacular names, and Camtrap DP's human and vehicle observation types.
    /// SQLite cannot change a CHECK constraint in place, so the observations table is rebuilt, rows and all.
    /// Rows written before hold an ImageNet class description in `scientificName`, not a Latin name: it moves to
    /// `vernacularName`, and their `scientificName` and `taxonRank` stay empty.
    private static func addTaxonomy(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP VIEW species_counts;
                DROP VIEW latest_observations;
                CREATE TABLE observations_v3 (
                    observationID TEXT PRIMARY KEY NOT NULL,
                    deploymentID TEXT NOT NULL REFERENCES deployments(deploymentID),
                    mediaID TEXT NOT NULL REFERENCES media(mediaID),
                    eventID TEXT,
                    eventStart TEXT,
                    eventEnd TEXT,
                    observationLevel TEXT NOT NULL DEFAULT 'media',
                    observationType TEXT NOT NULL CHECK (observationType IN ('animal', 'human', 'vehicle', 'blank')),
                    scientificName TEXT,
                    taxonRank TEXT CHECK (taxonRank IN ('species', 'genus', 'family', 'order', 'class', 'phylum',
                                                        'kingdom')),
                    vernacularName TEXT,
                    classIndex INTEGER NOT NULL,
                    count INTEGER,
                    classificationMethod TEXT NOT NULL DEFAULT 'machine',
                    classifiedBy TEXT NOT NULL,
                    classificationTimestamp TEXT NOT NULL,
                    classificationProbability REAL NOT NULL,
                    animalProbability REAL NOT NULL,
                    topClasses TEXT NOT NULL,
                    modelID TEXT NOT NULL REFERENCES models(modelID),
                    pruneLevels TEXT NOT NULL,
                    batchID INTEGER NOT NULL REFERENCES batches(batchID)
                );
                INSERT INTO observations_v3 (observationID, deploymentID, mediaID, eventID, eventStart, eventEnd,
                    observationLevel, observationType, scientificName, taxonRank, vernacularName, classIndex, count,
                    classificationMethod, classifiedBy, classificationTimestamp, classificationProbability,
                    animalProbability, topClasses, modelID, pruneLevels, batchID)
                SELECT observationID, deploymentID, mediaID, eventID, eventStart, eventEnd, observationLevel,
                    observationType, NULL, NULL, scientificName, classIndex, count, classificationMethod, classifiedBy,
                    classificationTimestamp, classificationProbability, animalProbability, topClasses, modelID,
                    pruneLevels, batchID
                FROM observations;
                DROP TABLE observations;
                ALTER TABLE observations_v3 RENAME TO observations;
                CREATE UNIQUE INDEX observations_media ON observations(mediaID);
                CREATE INDEX observations_name ON observations(scientificName, taxonRank);
                CREATE INDEX observations_time ON observations(classificationTimestamp);
                CREATE INDEX batches_completed ON batches(completed);
                CREATE VIEW species_counts AS
                    SELECT o.scientificName AS scientificName, o.taxonRank AS taxonRank,
                           o.vernacularName AS vernacularName, o.deploymentID AS deploymentID,
                           COUNT(*) AS images, COUNT(DISTINCT o.eventID) AS events,
                           MIN(m.timestamp) AS firstSeen, MAX(m.timestamp) AS lastSeen
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID
                    WHERE o.observationType = 'animal'
                    GROUP BY o.scientificName, o.taxonRank, o.vernacularName, o.deploymentID
                    ORDER BY images DESC;
                CREATE VIEW latest_observations AS
                    SELECT m.timestamp AS timestamp, m.deploymentID AS deploymentID, m.filePath AS filePath,
                           o.observationType AS observationType, o.scientificName AS scientificName,
                           o.taxonRank AS taxonRank, o.vernacularName AS vernacularName,
                           ROUND(o.classificationProbability, 3) AS probability,
                           ROUND(o.animalProbability, 3) AS animalProbability, o.pruneLevels AS pruneLevels
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID
                    ORDER BY o.classificationTimestamp DESC, m.timestamp DESC;
                """
        )
    }

    /// Where the animal is (Camtrap DP's bbox columns, from the burst localiser), every moving region of a
    /// frame, and one event-level observation per event (Camtrap DP `observationLevel = event`).
    private static func addBoxesAndEvents(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE observations ADD COLUMN bboxX REAL;
                ALTER TABLE observations ADD COLUMN bboxY REAL;
                ALTER TABLE observations ADD COLUMN bboxWidth REAL;
                ALTER TABLE observations ADD COLUMN bboxHeight REAL;
                ALTER TABLE observations ADD COLUMN burstFrames INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE observations ADD COLUMN contextFrames INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE observations ADD COLUMN classScores TEXT NOT NULL DEFAULT '[]';
                CREATE TABLE boxes (
                    mediaID TEXT NOT NULL REFERENCES media(mediaID),
                    boxIndex INTEGER NOT NULL,
                    bboxX REAL NOT NULL,
                    bboxY REAL NOT NULL,
                    bboxWidth REAL NOT NULL,
                    bboxHeight REAL NOT NULL,
                    motionScore REAL NOT NULL,
                    PRIMARY KEY (mediaID, boxIndex)
                );
                CREATE TABLE event_observations (
                    observationID TEXT PRIMARY KEY NOT NULL,
                    eventID TEXT NOT NULL UNIQUE,
                    deploymentID TEXT NOT NULL REFERENCES deployments(deploymentID),
                    eventStart TEXT NOT NULL,
                    eventEnd TEXT NOT NULL,
                    observationType TEXT NOT NULL CHECK (observationType IN ('animal', 'human', 'vehicle', 'blank')),
                    scientificName TEXT,
                    taxonRank TEXT,
                    vernacularName TEXT,
                    classIndex INTEGER NOT NULL,
                    classifiedBy TEXT NOT NULL,
                    classificationTimestamp TEXT NOT NULL,
                    classificationProbability REAL NOT NULL,
                    animalProbability REAL NOT NULL,
                    frames INTEGER NOT NULL,
                    animalFrames INTEGER NOT NULL,
                    topClasses TEXT NOT NULL,
                    modelID TEXT NOT NULL REFERENCES models(modelID)
                );
                CREATE INDEX event_observations_deployment ON event_observations(deploymentID, eventStart);
                """
        )
    }

    private static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE deployments (
                    deploymentID TEXT PRIMARY KEY NOT NULL,
                    locationName TEXT NOT NULL,
                    folder TEXT NOT NULL,
                    deploymentStart TEXT,
                    deploymentEnd TEXT,
                    cameraModel TEXT,
                    cameraID TEXT
                );
                CREATE TABLE models (
                    modelID TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    path TEXT NOT NULL,
                    firstUsed TEXT NOT NULL,
                    metadata TEXT NOT NULL
                );
                CREATE TABLE batches (
                    batchID INTEGER PRIMARY KEY AUTOINCREMENT,
                    size INTEGER NOT NULL,
                    firstArrival TEXT NOT NULL,
                    deadline TEXT NOT NULL,
                    completed TEXT NOT NULL,
                    latencyMs REAL NOT NULL,
                    met INTEGER NOT NULL,
                    levels TEXT NOT NULL,
                    nodeTimings TEXT NOT NULL,
                    modelID TEXT REFERENCES models(modelID)
                );
                CREATE TABLE media (
                    mediaID TEXT PRIMARY KEY NOT NULL,
                    deploymentID TEXT NOT NULL REFERENCES deployments(deploymentID),
                    captureMethod TEXT NOT NULL DEFAULT 'activityDetection',
                    timestamp TEXT NOT NULL,
                    timestampHasOffset INTEGER NOT NULL DEFAULT 0,
                    timestampSource TEXT NOT NULL,
                    timeKey REAL NOT NULL,
                    filePath TEXT NOT NULL,
                    filePublic INTEGER NOT NULL DEFAULT 0,
                    fileName TEXT NOT NULL,
                    fileMediatype TEXT NOT NULL DEFAULT 'image/jpeg',
                    fileSize INTEGER,
                    fileModified REAL,
                    width INTEGER,
                    height INTEGER,
                    cameraMake TEXT,
                    cameraModel TEXT,
                    cameraSerial TEXT,
                    eventID TEXT,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'labeled', 'failed')),
                    errorCode TEXT,
                    error TEXT,
                    arrived TEXT NOT NULL,
                    arrivedAt REAL NOT NULL,
                    batchID INTEGER REFERENCES batches(batchID)
                );
                CREATE INDEX media_status ON media(status, arrivedAt);
                CREATE INDEX media_path ON media(filePath);
                CREATE INDEX media_deployment_time ON media(deploymentID, timeKey);
                CREATE TABLE observations (
                    observationID TEXT PRIMARY KEY NOT NULL,
                    deploymentID TEXT NOT NULL REFERENCES deployments(deploymentID),
                    mediaID TEXT NOT NULL REFERENCES media(mediaID),
                    eventID TEXT,
                    eventStart TEXT,
                    eventEnd TEXT,
                    observationLevel TEXT NOT NULL DEFAULT 'media',
                    observationType TEXT NOT NULL CHECK (observationType IN ('animal', 'blank')),
                    scientificName TEXT,
                    classIndex INTEGER NOT NULL,
                    count INTEGER,
                    classificationMethod TEXT NOT NULL DEFAULT 'machine',
                    classifiedBy TEXT NOT NULL,
                    classificationTimestamp TEXT NOT NULL,
                    classificationProbability REAL NOT NULL,
                    animalProbability REAL NOT NULL,
                    topClasses TEXT NOT NULL,
                    modelID TEXT NOT NULL REFERENCES models(modelID),
                    pruneLevels TEXT NOT NULL,
                    batchID INTEGER NOT NULL REFERENCES batches(batchID)
                );
                CREATE UNIQUE INDEX observations_media ON observations(mediaID);
                CREATE INDEX observations_name ON observations(scientificName);
                CREATE TABLE controller_events (
                    eventID INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    node TEXT,
                    levels TEXT,
                    reason TEXT NOT NULL
                );
                """
        )
    }

    private static func createViews(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE VIEW species_counts AS
                    SELECT o.scientificName AS scientificName, o.deploymentID AS deploymentID,
                           COUNT(*) AS images, COUNT(DISTINCT o.eventID) AS events,
                           MIN(m.timestamp) AS firstSeen, MAX(m.timestamp) AS lastSeen
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID
                    WHERE o.observationType = 'animal'
                    GROUP BY o.scientificName, o.deploymentID
                    ORDER BY images DESC;
                CREATE VIEW latest_observations AS
                    SELECT m.timestamp AS timestamp, m.deploymentID AS deploymentID, m.filePath AS filePath,
                           o.observationType AS observationType, o.scientificName AS scientificName,
                           ROUND(o.classificationProbability, 3) AS probability,
                           ROUND(o.animalProbability, 3) AS animalProbability, o.pruneLevels AS pruneLevels
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID
                    ORDER BY o.classificationTimestamp DESC, m.timestamp DESC;
                CREATE VIEW slo_by_hour AS
                    SELECT substr(completed, 1, 13) || ':00' AS hour, COUNT(*) AS batches, SUM(size) AS images,
                           SUM(met) AS met, ROUND(100.0 * SUM(met) / COUNT(*), 1) AS attainmentPercent,
                           ROUND(AVG(latencyMs), 1) AS meanLatencyMs, ROUND(MAX(latencyMs), 1) AS maxLatencyMs
                    FROM batches GROUP BY hour ORDER BY hour;
                """
        )
    }
}
