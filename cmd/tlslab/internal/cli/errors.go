package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/internal/suggest"
)

// usageError is a mistake on the command line; Run prints it with a help hint
// and exits with ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// flagError wraps an error from flag parsing, so its message can name the
// command it happened in.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// runtimeError is a failure that is not the user's fault (invalid catalog,
// output could not be written); Run prints it and exits with ExitMismatch.
type runtimeError struct{ err error }

func (e *runtimeError) Error() string { return e.err.Error() }

// usageMessage says what was wrong and where, for an error that came out of
// cobra: ours, a flag parsing error, or one of cobra's own.
func usageMessage(cmd *cobra.Command, err error) string {
	where := "'tlslab'"
	if cmd != nil {
		where = "'" + cmd.CommandPath() + "'"
	}
	var fe *flagError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	var notExist *pflag.NotExistError
	if errors.As(fe.err, &notExist) && notExist.GetSpecifiedShortnames() == "" && cmd != nil {
		name := notExist.GetSpecifiedName()
		msg := fmt.Sprintf("unknown flag --%s for %s", name, where)
		if s := closestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
		return msg
	}
	return fmt.Sprintf("%s (for %s)", fe.err, where)
}

// closestFlag returns the name of cmd's flag nearest to name, if it is a
// likely typo (edit distance at most 2), else "".
func closestFlag(cmd *cobra.Command, name string) string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	best, _ := suggest.Typo(name, names)
	return best
}

// helpCommand is the command line that shows cmd's help: "tlslab help run".
func helpCommand(cmd *cobra.Command) string {
	if cmd == nil || !cmd.HasParent() {
		return "tlslab help"
	}
	return "tlslab help " + strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}
