// Command kalla reconciles two data sources by the rules of a recipe.
//
//	kalla reconcile --recipe FILE [--out DIR|s3://bucket/prefix] [--format parquet|csv|xlsx] [--json]
//	kalla explain --recipe FILE [--sql]
//	kalla submit --server URL (--recipe FILE | --recipe-id ID) [--wait] [--json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes mean what they say: 2 is the user's input, 1 anything else.
const (
	exitOK       = 0
	exitFailure  = 1
	exitBadInput = 2
)

func main() {
	// A closed terminal (SIGHUP) stops a run as Ctrl-C does: cleaned up.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitBadInput
	}
	switch args[0] {
	case "reconcile":
		return reconcileCommand(ctx, args[1:], stdout, stderr)
	case "submit":
		return submitCommand(ctx, args[1:], stdout, stderr)
	case "explain":
		return explainCommand(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "kalla: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitBadInput
}

// parseFlags parses a command's flags; when it reports false the command
// ends with code: 0 after -help (the flags shown on stdout), 2 after a bad
// flag (already explained on the flag set's output).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, ok bool) {
	errOut := fs.Output()
	// -h prints the flags on stdout, as 'kalla help' does; errors go to stderr.
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(stdout)
		}
	}
	err := fs.Parse(args)
	fs.SetOutput(errOut)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	}
	return exitBadInput, false
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kalla reconciles two data sources by the rules of a recipe.

Commands:
  reconcile   run a whole reconciliation on this machine, no servers needed
  submit      create a run on a Kalla server, optionally wait for its summary
  explain     check a recipe against its sources and say what a run would do

Run 'kalla reconcile -h' for its flags.
`)
}
