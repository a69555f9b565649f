#!/usr/bin/env bash
# Regenerates the committed Swift code for the ring's protocol (Protos/ -> Sources/Ring/Generated/).
# Needs protoc (apt-get install protobuf-compiler); builds the two Swift plugins once into .build-tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || apt-get install -y protobuf-compiler
tools=.build-tools
mkdir -p "$tools/pkg"
cat > "$tools/pkg/Package.swift" <<'SWIFT'
// swift-tools-version: 6.2
import PackageDescription
let package = Package(
    name: "codegen",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: []
)
SWIFT
# PLUGINS=folder skips the build when both plugins are already built there.
bin="${PLUGINS:-$tools/build/release}"
if [ -z "${PLUGINS:-}" ]; then
    for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
        swift build -c release --package-path "$tools/pkg" --scratch-path "$tools/build" --product "$product"
    done
fi
# Messages go to RingWire (no gRPC: the fuzz target links it alone), services to Ring, which imports RingWire.
messages=Sources/RingWire/Generated
services=Sources/Ring/Generated
rm -f "$messages"/*.swift "$services"/*.swift
protoc --proto_path=Protos \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$messages" --swift_opt=Visibility=Public \
    trapline/ring/v1/ring.proto grpc/health/v1/health.proto
protoc --proto_path=Protos \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" --grpc-swift-2_out="$services" \
    --grpc-swift-2_opt=Visibility=Public \
    trapline/ring/v1/ring.proto grpc/health/v1/health.proto
# protoc writes into folders named after the packages; the targets want the files flat.
for out in "$messages" "$services"; do
    find "$out" -mindepth 2 -name '*.swift' -exec mv {} "$out"/ \;
    find "$out" -mindepth 1 -type d -empty -delete
done
# The plugin assumes the messages live in the services' module; they live in RingWire.
sed -i 's/^import GRPCProtobuf$/import GRPCProtobuf\nimport RingWire/' "$services"/*.grpc.swift
ls "$messages" "$services"
