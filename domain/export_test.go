package domain

import jsonv2 "github.com/go-json-experiment/json"

// The two strict decoders of payloads, for the test that holds them to
// agree.
var (
	DecodeV1 = decodeV1
	DecodeV2 = func(data []byte, v any) error { return jsonv2.Unmarshal(data, v, strictV2) }
)
