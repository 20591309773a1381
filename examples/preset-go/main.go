// A small JSON HTTP service on net/http (drydock example).
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			reply(w, http.StatusNotFound, map[string]string{"error": "no route for " + r.URL.Path})
			return
		}
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		// The runtime image has no shell or libc: CA certificates are the one system file it needs.
		certs := 0
		if pool, err := x509.SystemCertPool(); err == nil {
			certs = len(pool.Subjects()) //nolint:staticcheck // a count is all we want
		}
		reply(w, http.StatusOK, map[string]any{
			"service": "preset-go",
			"message": "Hello, " + name + "!",
			"go":      runtime.Version(),
			"uid":     os.Getuid(),
			"caCerts": certs,
		})
	})

	server := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	log.Printf("preset-go listening on :%s", port)
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
