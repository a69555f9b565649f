// The ring's wire types (messages, encodings, errors) are part of its API.
@_exported import RingWire
