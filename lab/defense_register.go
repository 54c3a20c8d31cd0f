package lab

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// registered are the defenses of catalogs outside tlslab's own
// (RegisterDefense), in the order registered.
var registered struct {
	mu    sync.RWMutex
	names []string
	docs  map[string]string
}

// RegisterDefense adds a defense of your own, described by doc (one line,
// not empty), for catalogs outside tlslab's (see lab/labtest): a check
// your code makes that tlslab's switches do not name, e.g. "pinning" for
// a client that pins its server's key. Evidence may then record refusals
// by it, a held scenario may name it as StoppedBy, and the verdict credits
// it like any defense that is on; it has no switch (Switches,
// DefenseNames and the matrix columns do not list it) and is always on.
// Registering it again with the same doc does nothing; another doc, a
// built-in switch's name, or a name that is not lower case without
// spaces is an error.
func RegisterDefense(name, doc string) error {
	if name == "" || strings.ContainsAny(name, " \t\n") || name != strings.ToLower(name) || strings.TrimSpace(doc) == "" || strings.Contains(doc, "\n") {
		return fmt.Errorf("lab: defense %q: a defense is lower case without spaces, with a one-line doc", name)
	}
	if _, builtin := SwitchNamed(name); builtin {
		return fmt.Errorf("lab: defense %q is a built-in switch", name)
	}
	registered.mu.Lock()
	defer registered.mu.Unlock()
	if d, ok := registered.docs[name]; ok {
		if d != doc {
			return fmt.Errorf("lab: defense %q is registered as %q", name, d)
		}
		return nil
	}
	if registered.docs == nil {
		registered.docs = map[string]string{}
	}
	registered.names = append(registered.names, name)
	registered.docs[name] = doc
	return nil
}

// RegisteredDefenses returns the names RegisterDefense added, in the
// order registered, and their docs.
func RegisteredDefenses() (names []string, docs map[string]string) {
	registered.mu.RLock()
	defer registered.mu.RUnlock()
	docs = make(map[string]string, len(registered.docs))
	for k, v := range registered.docs {
		docs[k] = v
	}
	return slices.Clone(registered.names), docs
}

// isRegisteredDefense reports whether RegisterDefense added name.
func isRegisteredDefense(name string) bool {
	registered.mu.RLock()
	defer registered.mu.RUnlock()
	_, ok := registered.docs[name]
	return ok
}

// knownDefenses returns DefenseNames and then the registered defenses.
func knownDefenses() []string {
	names, _ := RegisteredDefenses()
	return append(DefenseNames(), names...)
}
