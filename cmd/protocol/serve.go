package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"protocol/server"
	"protocol/store"
)

// timeouts bound how long one client may hold a connection, so that slow or idle clients cannot
// use up the server.
type timeouts struct {
	readHeader, read, write, idle time.Duration
}

var defaultTimeouts = timeouts{
	readHeader: 10 * time.Second,  // a request line and headers, however slowly they trickle in
	read:       30 * time.Second,  // a whole request, body included (bodies are at most 1 MiB)
	write:      30 * time.Second,  // from the end of the headers to the end of the response
	idle:       120 * time.Second, // a kept-alive connection between requests
}

func newHTTPServer(h http.Handler, t timeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// shutdownGrace is how long in-flight requests get to finish after SIGINT or SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var (
		dbPath, addr string
		rateLimit    int
		pprofAddr    string
		pool         store.Options
	)
	fs := newFlags("serve", &dbPath, stderr)
	fs.StringVar(&addr, "addr", envOr("PROTOCOL_ADDR", "127.0.0.1:8080"), "address to listen on (env PROTOCOL_ADDR)")
	fs.IntVar(&rateLimit, "rate-limit", 0, "requests a second allowed per API key and per server process, bursts of twice that; 0 is no limit")
	fs.StringVar(&pprofAddr, "pprof", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off when empty")
	fs.IntVar(&pool.MaxOpenConns, "db-max-open-conns", store.DefaultMaxOpenConns(), "most connections the server reads the database on")
	fs.IntVar(&pool.MaxIdleConns, "db-max-idle-conns", 0, "reading connections kept open while idle; 0 is as many as --db-max-open-conns")
	fs.DurationVar(&pool.ConnMaxLifetime, "db-conn-max-lifetime", defaultConnMaxLifetime, "close a database connection once it is this old, and open another; 0 keeps it")
	fs.IntVar(&pool.WriteConns, "db-write-conns", store.DefaultWriteConns, "PostgreSQL only: transactions the server writes in at once (SQLite always writes on one connection)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rateLimit < 0 {
		return fmt.Errorf("--rate-limit must be 0 or more, not %d", rateLimit)
	}
	for _, f := range []struct {
		name     string
		value    int64
		smallest int64
	}{
		{"db-max-open-conns", int64(pool.MaxOpenConns), 1},
		{"db-max-idle-conns", int64(pool.MaxIdleConns), 0},
		{"db-conn-max-lifetime", int64(pool.ConnMaxLifetime), 0},
		{"db-write-conns", int64(pool.WriteConns), 1},
	} {
		if f.value < f.smallest {
			return fmt.Errorf("--%s must be %d or more, not %s", f.name, f.smallest, fs.Lookup(f.name).Value)
		}
	}
	st, err := store.Open(dbPath, pool)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := ensureKey(ctx, st, ln.Addr().String(), stdout); err != nil {
		_ = ln.Close()
		return err
	}
	handler, err := server.New(st, log, server.WithRateLimit(rateLimit))
	if err != nil {
		_ = ln.Close()
		return err
	}
	srv := newHTTPServer(handler, defaultTimeouts, log)
	if pprofAddr != "" {
		stopProfiler, err := serveProfiler(pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}
	log.Info("serving", "addr", "http://"+ln.Addr().String(), "db", redactDB(dbPath))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// defaultConnMaxLifetime lets a PostgreSQL server's connections spread again over time, after
// a failover or a restart behind a pooler.
const defaultConnMaxLifetime = 30 * time.Minute

// redactDB is the --db value without a password, for the log.
func redactDB(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		return u.Redacted()
	}
	return db
}

// ensureKey creates the first account and its key when the database has no key at all, and
// prints the key once: it is stored only as a hash. Of servers starting at once on an empty
// database, one makes the key.
func ensureKey(ctx context.Context, st *store.Store, addr string, stdout io.Writer) error {
	has, err := st.HasKeys(ctx)
	if err != nil || has {
		return err
	}
	k, created, err := st.CreateFirstKey(ctx, "default")
	if err != nil || !created {
		return err
	}
	fmt.Fprintf(stdout, `
  A new API key was created. It is shown only this once; keep it somewhere safe:

    %s

  Try it:

    curl http://%s/v1/contacts -H "Authorization: Bearer %s"

`, k.Key, addr, k.Key)
	return nil
}
