package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// checkPublish asks the registry whether the claimed version exists. Any
// answer other than "here it is" is FAIL: a publication that cannot be
// confirmed has not been shown to have happened.
func checkPublish(ctx context.Context, r *runner) tally {
	var t tally
	p := r.claim.Publish
	if p == nil {
		return t
	}
	st, code, note := r.publish(ctx, *p)
	t.add(st, code, note)
	t.passed = fmt.Sprintf("%s@%s is in %s", p.Package, p.Version, p.Registry)
	return t
}

func (r *runner) publish(ctx context.Context, p Publish) (Status, string, string) {
	u, err := packageURL(p)
	if err != nil {
		return Fail, "publish.invalid_claim", err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Fail, "publish.invalid_claim", fmt.Sprintf("publish claim: %v", err)
	}
	// The abbreviated metadata lists every version at a fraction of the
	// size; registries that do not know it send the full document.
	req.Header.Set("Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8")
	resp, err := r.opts.HTTPClient.Do(req)
	if err != nil {
		return Fail, "publish.unreachable", fmt.Sprintf("registry %s unreachable, %s@%s not confirmed: %v", p.Registry, p.Package, p.Version, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return Fail, "publish.not_found", fmt.Sprintf("registry %s has no package %s (404): %s@%s was not published there", p.Registry, p.Package, p.Package, p.Version)
	case resp.StatusCode != http.StatusOK:
		return Fail, "publish.registry_error", fmt.Sprintf("registry %s answered %s for %s: %s@%s not confirmed", p.Registry, resp.Status, p.Package, p.Package, p.Version)
	}
	versions, err := decodeVersions(resp.Body, r.opts.MaxRegistryBytes)
	if err != nil {
		return Fail, "publish.bad_response", fmt.Sprintf("registry %s: metadata of %s unusable, %s@%s not confirmed: %v", p.Registry, p.Package, p.Package, p.Version, err)
	}
	if _, ok := versions[p.Version]; !ok {
		return Fail, "publish.version_missing", fmt.Sprintf("registry %s has %s but not version %s (%d other version(s)): the claimed publish did not happen", p.Registry, p.Package, p.Version, len(versions))
	}
	return Pass, "", ""
}

// decodeVersions reads the "versions" object of npm package metadata,
// reading at most max bytes.
func decodeVersions(body io.Reader, max int64) (map[string]struct{}, error) {
	lr := &io.LimitedReader{R: body, N: max + 1}
	var doc struct {
		Versions map[string]struct{} `json:"versions"`
	}
	err := json.NewDecoder(lr).Decode(&doc)
	if lr.N <= 0 {
		return nil, fmt.Errorf("response larger than %d bytes (Options.MaxRegistryBytes)", max)
	}
	if err != nil {
		return nil, fmt.Errorf("not JSON package metadata: %w", err)
	}
	if doc.Versions == nil {
		return nil, errors.New(`no "versions" object in the package metadata`)
	}
	return doc.Versions, nil
}

// packageURL builds {registry}/{package}, the package name escaped as npm
// does ("@scope%2fname").
func packageURL(p Publish) (string, error) {
	var errs []error
	u, err := url.Parse(p.Registry)
	switch {
	case p.Registry == "":
		errs = append(errs, errors.New("publish claim has no Registry: give the registry's base URL, like https://registry.npmjs.org"))
	case err != nil:
		errs = append(errs, fmt.Errorf("publish claim Registry %q: %w", p.Registry, err))
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		errs = append(errs, fmt.Errorf("publish claim Registry %q: want an http or https URL with a host", p.Registry))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("publish claim Registry %q: want a base URL without query or fragment", p.Registry))
	}
	if err := validPackageName(p.Package); err != nil {
		errs = append(errs, err)
	}
	if p.Version == "" || len(p.Version) > 256 || strings.ContainsAny(p.Version, " \t\r\n/") {
		errs = append(errs, fmt.Errorf("publish claim Version %q: want a version like 1.2.3", p.Version))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	name := p.Package
	if scope, rest, ok := strings.Cut(name, "/"); ok {
		name = scope + "%2f" + url.PathEscape(rest)
	} else {
		name = url.PathEscape(name)
	}
	return strings.TrimRight(p.Registry, "/") + "/" + name, nil
}

// validPackageName applies npm's rules that matter for building the URL:
// at most 214 characters, URL-safe, "name" or "@scope/name", no leading
// dot or underscore.
func validPackageName(n string) error {
	bad := func(why string) error {
		return fmt.Errorf("publish claim Package %q: %s", n, why)
	}
	if n == "" {
		return bad(`empty: name the package, like "left-pad" or "@scope/name"`)
	}
	if len(n) > 214 {
		return bad("longer than npm's 214 characters")
	}
	name := n
	if strings.HasPrefix(n, "@") {
		scope, rest, ok := strings.Cut(n[1:], "/")
		if !ok || scope == "" || rest == "" {
			return bad(`a scoped name is "@scope/name"`)
		}
		if err := namePart(scope); err != "" {
			return bad("scope " + err)
		}
		name = rest
	}
	if err := namePart(name); err != "" {
		return bad(err)
	}
	return nil
}

func namePart(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "_") {
		return "may not start with . or _"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~!*'()", c)) {
			return fmt.Sprintf("contains %q, which npm does not allow", c)
		}
	}
	return ""
}
