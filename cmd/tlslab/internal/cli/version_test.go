package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	build := func(v string, kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/tlslab/tlslab", Version: v}}
		for i := 0; i+1 < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	for _, tc := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{build("(devel)", "vcs.revision", "3f2c1ab9d0e4", "vcs.time", "2026-12-06T10:04:05Z", "vcs.modified", "true"), true,
			"(devel) 3f2c1ab 2026-12-06T10:04:05Z dirty"},
		{build("v1.2.3", "vcs.revision", "3f2c1ab9d0e4", "vcs.time", "2026-12-06T10:04:05Z", "vcs.modified", "false"), true,
			"v1.2.3 3f2c1ab 2026-12-06T10:04:05Z"},
		{build("v1.2.3"), true, "v1.2.3"},
		{build("", "vcs.revision", "abc"), true, "(devel) abc"},
		{nil, false, "unknown"},
	} {
		if got := version(tc.info, tc.ok); got != tc.want {
			t.Errorf("version = %q, want %q", got, tc.want)
		}
	}
}

// Both spellings print "tlslab" and the running binary's version.
func TestVersionCommand(t *testing.T) {
	saved := readBuildInfo
	t.Cleanup(func() { readBuildInfo = saved })
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3f2c1ab9d0e4"}, {Key: "vcs.time", Value: "2026-12-06T10:04:05Z"},
			{Key: "vcs.modified", Value: "true"}}}, true
	}
	const want = "tlslab (devel) 3f2c1ab 2026-12-06T10:04:05Z dirty\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		o := run(fakeCatalog(), args...)
		exit(ExitOK)(t, o)
		if o.stdout != want {
			t.Errorf("%v: stdout %q, want %q", args, o.stdout, want)
		}
	}
	usage("tlslab help version", `'tlslab version' takes no arguments, got "x"`)(t, run(fakeCatalog(), "version", "x"))
}
