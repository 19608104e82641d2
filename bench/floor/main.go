// Command floor is the benchmark's floor: a bare Echo server that answers GET
// /v1/contacts/{id} with one fixed contact, in the API's shape, and does nothing else: no
// database, no authentication, no validation, no logging. What it reaches under a load is the
// most that this machine, this HTTP stack and this load generator allow, so the Protocol
// server's numbers are read as fractions of it.
//
//	floor --addr HOST:PORT
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// contact has the fields of the API's Contact, in its order.
type contact struct {
	ID             string  `json:"id"`
	Username       string  `json:"username"`
	PhoneNumber    string  `json:"phone_number"`
	AvatarURL      *string `json:"avatar_url"`
	DisplayName    *string `json:"display_name"`
	ConversationID *string `json:"conversation_id"`
	LastActiveAt   *int64  `json:"last_active_at"`
	CreatedAt      int64   `json:"created_at"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	avatar, conversation := "https://assets.protocol.chat/avatars/frank.jpg", "xgQQXg3hrtjh7AvZ"
	frank := contact{
		ID:             "WAz8eIbvDR60rouK",
		Username:       "FrankMcCallister",
		PhoneNumber:    "1-800-759-3000",
		AvatarURL:      &avatar,
		ConversationID: &conversation,
		CreatedAt:      692233200,
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// The contact is encoded on every request, as the real server must encode its own.
	e.GET("/v1/contacts/:id", func(c echo.Context) error { return c.JSON(http.StatusOK, frank) })
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
