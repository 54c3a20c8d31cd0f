package netsim

import "slices"

// ImpairAs makes the World's host impairment rules for name
// (World.ImpairHost) apply to h as well, as if h were also called name:
// for a machine that an actor named name controls although the topology
// calls it something else (an insider's server). A standing rule for name
// is applied to h at once, replacing h's impairment; later rules for name
// are applied as they are set. A rule for h's own name still applies too:
// whichever was set last wins. ImpairAs does not rename h.
func (h *Host) ImpairAs(name string) {
	w := h.world
	w.mu.Lock()
	defer w.mu.Unlock()
	if name == h.name || slices.Contains(h.impairAs, name) {
		return
	}
	h.impairAs = append(h.impairAs, name)
	if imp, ok := w.impair.hosts[name]; ok {
		_ = h.SetImpairment(imp) // validated when the rule was set
	}
}

// impairedAs reports whether World.ImpairHost rules for name apply to h.
// The caller holds the World's mu.
func (h *Host) impairedAs(name string) bool {
	return h.name == name || slices.Contains(h.impairAs, name)
}
