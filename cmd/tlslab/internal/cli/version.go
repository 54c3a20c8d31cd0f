package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// version is the line 'tlslab --version' and 'tlslab version' print,
// without the program name: the main module's version ("(devel)" for a
// build from a checkout, "v1.2.3" for 'go install ...@v1.2.3'), then, when
// the build recorded them, the VCS revision's first 7 characters, the
// commit time (UTC, RFC 3339) and "dirty" for a modified working tree:
// "(devel) 3f2c1ab 2026-12-06T10:04:05Z dirty". Without build information
// (a binary built without module support) it is "unknown".
func version(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{v}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		parts = append(parts, rev[:min(7, len(rev))])
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, t)
	}
	if settings["vcs.modified"] == "true" {
		parts = append(parts, "dirty")
	}
	return strings.Join(parts, " ")
}

// buildVersion is version of the running binary.
func buildVersion() string { return version(readBuildInfo()) }

// setVersion gives root its --version flag ("tlslab VERSION").
func setVersion(root *cobra.Command) {
	root.Version = buildVersion()
	root.SetVersionTemplate("tlslab {{.Version}}\n")
}

func newVersionCmd(st *state) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tlslab's version: module version, VCS revision and time, dirty when modified",
		Long: `Print "tlslab" and the build's version, as tlslab --version does: the main
module's version ("(devel)" when built from a checkout), then, when the build
recorded them, the VCS revision (7 characters), the commit time and "dirty"
when the working tree had changes.`,
		Example: `  tlslab version
  tlslab --version`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("'tlslab version' takes no arguments, got %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := fmt.Fprintf(st.stdout, "tlslab %s\n", buildVersion()); err != nil {
				return &runtimeError{err: err}
			}
			return nil
		},
	}
}
