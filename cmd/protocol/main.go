// Command protocol runs the Protocol API server and manages its API keys.
//
//	protocol serve [--addr HOST:PORT] [--db PATH|URL] [--db-max-open-conns N] ...
//	protocol keys create [--db PATH|URL] [--name NAME]
//	protocol keys list [--db PATH|URL]
//	protocol keys revoke [--db PATH|URL] KEY_ID
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `Usage:
  protocol serve [--addr HOST:PORT] [--db PATH|URL] [--rate-limit N] [--pprof HOST:PORT]
                 [--db-max-open-conns N] [--db-max-idle-conns N] [--db-conn-max-lifetime D]
                 [--db-write-conns N]
  protocol keys create [--db PATH|URL] [--name NAME]
  protocol keys list [--db PATH|URL]
  protocol keys revoke [--db PATH|URL] KEY_ID

--db is a SQLite file, or a postgres:// URL for several servers sharing one PostgreSQL
database. Environment: PROTOCOL_ADDR and PROTOCOL_DB set the defaults of --addr and --db.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "protocol:", err)
		os.Exit(1)
	}
}

// errUsage reports a command line that names no known command.
var errUsage = errors.New("unknown command; see protocol --help")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	logOut := newBufferedLog(stderr, 100*time.Millisecond)
	defer logOut.Close()
	log := slog.New(slog.NewTextHandler(logOut, nil))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, log)
	case "keys":
		if len(args) < 2 {
			return errUsage
		}
		switch args[1] {
		case "create":
			return keysCreate(ctx, args[2:], stdout, stderr)
		case "list":
			return keysList(ctx, args[2:], stdout, stderr)
		case "revoke":
			return keysRevoke(ctx, args[2:], stdout, stderr)
		}
	}
	return errUsage
}

// envOr is the default of a flag: the environment variable if set, else fallback.
func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// newFlags makes a command's flag set with the --db flag every command has.
func newFlags(name string, db *string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(db, "db", envOr("PROTOCOL_DB", "protocol.db"), "SQLite database file, or postgres:// URL (env PROTOCOL_DB)")
	return fs
}
