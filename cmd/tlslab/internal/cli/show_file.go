package cli

import "github.com/tlslab/tlslab/lab"

// showTarget is the scenario 'tlslab show' describes or runs: the one in
// --file FILE, loaded as run --file loads it (a bad file is a usage error
// naming its line and column; its notes go to stderr), or the catalog
// scenario args names.
func (st *state) showTarget(args []string, f showFlags) (lab.Scenario, error) {
	if f.file == "" {
		s, err := st.catalog.Lookup(args[0])
		if err != nil {
			return lab.Scenario{}, selectionError(err)
		}
		return s, nil
	}
	loaded, err := st.loadFiles([]string{f.file})
	if err != nil {
		return lab.Scenario{}, err
	}
	return loaded[0], nil
}

// showArgs checks show's arguments: one scenario name, or none with
// --file.
func showArgs(args []string, f showFlags) error {
	switch {
	case f.file != "" && len(args) > 0:
		return usagef("'tlslab show --file %s' takes no scenario name, got %q; show one scenario at a time", f.file, args[0])
	case f.file == "" && len(args) != 1:
		return usagef("'tlslab show' takes one scenario name, got %d; see 'tlslab list', or show a scenario file with --file FILE", len(args))
	}
	return nil
}
