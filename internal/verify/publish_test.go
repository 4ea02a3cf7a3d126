package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// registry serves npm package metadata for one package from a handler
// chosen by the test, and records the last request.
func registry(t *testing.T, h http.HandlerFunc) (*httptest.Server, *http.Request) {
	t.Helper()
	last := new(http.Request)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*last = *r.Clone(context.Background())
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, last
}

func metadata(versions ...string) string {
	var parts []string
	for _, v := range versions {
		parts = append(parts, fmt.Sprintf(`%q: {"name": "left-pad", "version": %q, "dist": {"tarball": "x"}}`, v, v))
	}
	return `{"name": "left-pad", "dist-tags": {"latest": "1.0.0"}, "versions": {` + strings.Join(parts, ", ") + `}}`
}

func TestPublish(t *testing.T) {
	serve := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		version   string
		opts      Options
		status    Status
		code      string
		reasonHas string
	}{
		{"version published", serve(200, metadata("1.0.0", "1.1.0")), "1.1.0", Options{}, Pass, "", "left-pad@1.1.0 is in"},
		{"version not published", serve(200, metadata("1.0.0")), "1.1.0", Options{}, Fail, "publish.version_missing", "not version 1.1.0 (1 other version(s))"},
		{"package unknown", serve(404, `{"error": "not found"}`), "1.0.0", Options{}, Fail, "publish.not_found", "has no package left-pad (404)"},
		{"registry error", serve(503, "busy"), "1.0.0", Options{}, Fail, "publish.registry_error", "503 Service Unavailable"},
		{"garbage body", serve(200, "<html>hello</html>"), "1.0.0", Options{}, Fail, "publish.bad_response", "not JSON package metadata"},
		{"JSON without versions", serve(200, `{"name": "left-pad"}`), "1.0.0", Options{}, Fail, "publish.bad_response", `no "versions" object`},
		{"versions of the wrong shape", serve(200, `{"versions": ["1.0.0"]}`), "1.0.0", Options{}, Fail, "publish.bad_response", "not JSON package metadata"},
		{"huge body is cut off", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, `{"versions": {"1.0.0": {}}, "readme": "`)
			for range 1024 {
				fmt.Fprint(w, strings.Repeat("x", 1024))
			}
			fmt.Fprint(w, `"}`)
		}, "1.0.0", Options{MaxRegistryBytes: 64 << 10}, Fail, "publish.bad_response", "larger than 65536 bytes"},
		{"registry that never answers", func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, "1.0.0", Options{Timeout: 200 * time.Millisecond}, Fail, "publish.unreachable", "not confirmed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := registry(t, tt.handler)
			o := tt.opts
			o.Workdir, o.Linters, o.Typecheckers = t.TempDir(), map[string][]Command{}, map[string][]Command{}
			c := Claim{Publish: &Publish{Registry: srv.URL, Package: "left-pad", Version: tt.version}}
			r := Run(context.Background(), c, nil, o)
			assertCheck(t, r, CheckPublish, tt.status, tt.code, tt.reasonHas)
			if r.Status != tt.status {
				t.Errorf("report %s, want %s", r.Status, tt.status)
			}
		})
	}
}

func TestPublishRequest(t *testing.T) {
	srv, last := registry(t, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"versions": {"2.0.0": {}}}`)
	})
	c := Claim{Publish: &Publish{Registry: srv.URL + "/npm/", Package: "@acme/tool-kit", Version: "2.0.0"}}
	r := Run(context.Background(), c, nil, offline(t.TempDir()))
	assertCheck(t, r, CheckPublish, Pass, "", "@acme/tool-kit@2.0.0")
	if got, want := last.URL.EscapedPath(), "/npm/@acme%2ftool-kit"; got != want {
		t.Errorf("requested %s, want %s (npm escapes the scope's slash)", got, want)
	}
	if got := last.Header.Get("Accept"); !strings.Contains(got, "application/vnd.npm.install-v1+json") {
		t.Errorf("Accept %q does not ask for the abbreviated metadata", got)
	}
}

func TestPublishUnreachableRegistry(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := Claim{Publish: &Publish{Registry: url, Package: "left-pad", Version: "1.0.0"}}
	r := Run(context.Background(), c, nil, offline(t.TempDir()))
	assertCheck(t, r, CheckPublish, Fail, "publish.unreachable", "connection refused")
}

func TestPublishInvalidClaims(t *testing.T) {
	tests := []struct {
		name      string
		p         Publish
		reasonHas string
	}{
		{"no registry", Publish{Package: "a", Version: "1.0.0"}, "has no Registry"},
		{"not http", Publish{Registry: "file:///etc", Package: "a", Version: "1.0.0"}, "want an http or https URL"},
		{"query in registry", Publish{Registry: "http://127.0.0.1/?x=1", Package: "a", Version: "1.0.0"}, "without query"},
		{"no package", Publish{Registry: "http://127.0.0.1", Version: "1.0.0"}, "Package \"\": empty"},
		{"path in package", Publish{Registry: "http://127.0.0.1", Package: "../../admin", Version: "1.0.0"}, "may not start with . or _"},
		{"slash in unscoped package", Publish{Registry: "http://127.0.0.1", Package: "a/b", Version: "1.0.0"}, `contains '/'`},
		{"bad scope", Publish{Registry: "http://127.0.0.1", Package: "@/b", Version: "1.0.0"}, "@scope/name"},
		{"too long", Publish{Registry: "http://127.0.0.1", Package: strings.Repeat("a", 215), Version: "1.0.0"}, "214"},
		{"no version", Publish{Registry: "http://127.0.0.1", Package: "a"}, "Version \"\""},
		{"version with a slash", Publish{Registry: "http://127.0.0.1", Package: "a", Version: "1/../2"}, "want a version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			r := Run(context.Background(), Claim{Publish: &p}, nil, offline(t.TempDir()))
			assertCheck(t, r, CheckPublish, Fail, "publish.invalid_claim", tt.reasonHas)
		})
	}
}

func FuzzDecodeVersions(f *testing.F) {
	f.Add([]byte(metadata("1.0.0")))
	f.Add([]byte(`{"versions": null}`))
	f.Add([]byte(`{"versions": {"1": []}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := decodeVersions(strings.NewReader(string(body)), 1<<10)
		if err == nil && v == nil {
			t.Fatal("no error and no versions")
		}
		if err != nil && v != nil {
			t.Fatal("versions returned with an error")
		}
	})
}
