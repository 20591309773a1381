/**
 * The static file server the preset compiles into its runtime image: Go's standard library only,
 * a ~5 MB static binary. Busybox httpd would be smaller still, but it cannot send Cache-Control,
 * and its validators come from file times, which reproducible layers clamp to one epoch: browsers
 * would then cache pages heuristically for years, and an edit that keeps a file's size would keep
 * its ETag.
 *
 * What it does: serves the regular files under STATIC_ROOT that exist at startup (nothing else
 * is reachable: no directory listings, no dotfiles but .well-known/), with a strong ETag from each
 * file's content (If-None-Match gives 304), no Last-Modified, `Cache-Control: STATIC_CACHE`
 * (default `no-cache`: always revalidate) and, for paths matching STATIC_IMMUTABLE (default: a
 * content hash in the name, see DEFAULT_IMMUTABLE; never .html),
 * STATIC_IMMUTABLE_CACHE (default one year, immutable). `/about` finds about.html, `/docs/`
 * docs/index.html (`/docs` redirects there); unknown paths get 404.html with status 404, or
 * index.html with STATIC_SPA=1 when they have no file extension. GET and HEAD only; Range requests
 * work. Stops gracefully on SIGTERM.
 *
 * The source reaches the build as a RUN step's argument (a heredoc would need a newer Dockerfile
 * frontend than docker 20.10's), so it contains no single quote.
 */
/**
 * Paths whose responses may be cached for a year: a hex content hash of 8+ digits in the name
 * (webpack, Parcel: app.3f2a1b9c.css), or an 8+ character base64 hash in the name inside the
 * asset folders of Vite, Astro, SvelteKit, Next.js and Create React App (index-BxYz12ab.js).
 */
export const DEFAULT_IMMUTABLE =
  '[.-][0-9a-f]{8,}[.][0-9a-z]+$|^/(assets|_astro|_app/immutable|_next/static|static)/.*[.-][0-9A-Za-z_-]{8,}[.][0-9a-z]+$';

export const SERVER_SOURCE = String.raw`package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

type file struct{ disk, etag, ctype, cache string }

const DefaultImmutable = "${DEFAULT_IMMUTABLE}"

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	root := env("STATIC_ROOT", "/site")
	cache := env("STATIC_CACHE", "no-cache")
	immutableCache := env("STATIC_IMMUTABLE_CACHE", "public, max-age=31536000, immutable")
	immutable, err := regexp.Compile(env("STATIC_IMMUTABLE", DefaultImmutable))
	if err != nil {
		log.Fatalf("STATIC_IMMUTABLE: %v", err)
	}
	spa := env("STATIC_SPA", "") == "1"
	files := map[string]file{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		url := "/" + filepath.ToSlash(rel)
		if strings.Contains(url, "/.") && !strings.HasPrefix(url, "/.well-known/") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(url))
		if ctype == "" {
			ctype = http.DetectContentType(data)
		}
		c := cache
		if immutable.MatchString(url) && !strings.HasSuffix(url, ".html") {
			c = immutableCache
		}
		files[url] = file{p, "\"" + hex.EncodeToString(sum[:16]) + "\"", ctype, c}
		return nil
	})
	if err != nil {
		log.Fatalf("reading %s: %v", root, err)
	}
	serve := func(w http.ResponseWriter, r *http.Request, f file, status int) {
		fh, err := os.Open(f.disk)
		if err != nil {
			http.Error(w, "unreadable", http.StatusInternalServerError)
			return
		}
		defer fh.Close()
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		if status != http.StatusOK {
			h.Set("Cache-Control", "no-cache")
			w.WriteHeader(status)
			if r.Method == http.MethodGet {
				_, _ = io.Copy(w, fh)
			}
			return
		}
		h.Set("Cache-Control", f.cache)
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, "", time.Time{}, fh)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		for _, candidate := range []string{p, p + ".html", strings.TrimSuffix(p, "/") + "/index.html"} {
			f, ok := files[candidate]
			if !ok {
				continue
			}
			if candidate != p && strings.HasSuffix(candidate, "/index.html") && !strings.HasSuffix(r.URL.Path, "/") {
				http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
				return
			}
			serve(w, r, f, http.StatusOK)
			return
		}
		if f, ok := files["/index.html"]; ok && spa && path.Ext(p) == "" {
			serve(w, r, f, http.StatusOK)
		} else if f, ok := files["/404.html"]; ok {
			serve(w, r, f, http.StatusNotFound)
		} else {
			http.NotFound(w, r)
		}
	})
	server := &http.Server{Addr: ":" + env("PORT", "8080"), Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	log.Printf("serving %d files from %s on %s", len(files), root, server.Addr)
	if err := server.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
`;

/**
 * A shell command writing the server's source to `file`: one `printf` argument per line (leading
 * tabs and blank lines dropped, which Go does not need), so the RUN step stays one Dockerfile line.
 */
export function writeSourceCommand(file: string): string {
  const lines = SERVER_SOURCE.split('\n')
    .map((l) => l.replace(/^\t+/, ''))
    .filter((l) => l.trim() !== '');
  return `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} > ${file}`;
}
