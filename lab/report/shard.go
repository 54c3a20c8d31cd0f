package report

// Shard says which part of a selection a sharded report holds: shard
// Index of Count (1-based), taken from the selection Of, the names of
// every scenario selected before sharding, in the order a whole run
// reports them. WholeCatalog is true when that selection was the whole
// catalog, nothing filtered, so that a merge of every shard is a complete
// run for a baseline check. In JSON:
//
//	"shard": {"index": 2, "count": 3, "of": ["a", "b", ...], "whole_catalog": true}
type Shard struct {
	Index        int      `json:"index"`
	Count        int      `json:"count"`
	Of           []string `json:"of"`
	WholeCatalog bool     `json:"whole_catalog"`
}
