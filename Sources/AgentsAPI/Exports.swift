// The JSON value type, parser and writer live in CMAJSON (so that `cma-sandbox` can use them
// without the API types); everything that speaks the API sees them through AgentsAPI.
@_exported import CMAJSON
