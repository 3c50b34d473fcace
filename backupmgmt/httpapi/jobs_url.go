package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
)

// pingBase returns the URL the ping URLs of r's answer start with:
// Config.BaseURL when set, otherwise the scheme and host the client used.
// X-Forwarded-Proto and X-Forwarded-Host are believed only from a peer in
// Config.TrustedProxies, as X-Forwarded-For is by security.ClientIP; any
// other client could otherwise make the server hand out ping URLs that
// point elsewhere.
func (a *API) pingBase(r *http.Request) string {
	if a.cfg.BaseURL != "" {
		return strings.TrimSuffix(a.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || a.cfg.BehindTLS {
		scheme = "https"
	}
	host := r.Host
	if a.fromTrustedProxy(r) {
		if p := firstForwarded(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstForwarded(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// fromTrustedProxy reports whether r's peer is a configured proxy.
func (a *API) fromTrustedProxy(r *http.Request) bool {
	if len(a.cfg.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	return slices.ContainsFunc(a.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// firstForwarded is the first entry of a comma-separated forwarded header,
// the one the outermost proxy saw.
func firstForwarded(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(first))
}

// validHost accepts a host[:port] and nothing that could change the URL's
// meaning (a path, userinfo, a query).
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/\\@?#% \t\r\n") {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h
}

// pingURL is a job's ping URL, or nil when the caller may not see it. The
// ping token is a credential that records runs, so it is shown only to
// callers who may record runs (PermIngest) or change and rotate it
// (PermJobsWrite): a viewer or an auditor reading the job would otherwise
// be able to report backups, which the RBAC table denies them.
func (a *API) pingURL(r *http.Request, token string) *string {
	if !a.pingURLShown(r) {
		return nil
	}
	u := a.pingBase(r) + "/ping/" + url.PathEscape(token)
	return &u
}

// pingURLShown reports whether the caller of r is shown ping URLs: the
// token is a credential, for those who may record runs or edit jobs.
func (a *API) pingURLShown(r *http.Request) bool {
	act := caller(r)
	return act.Can(backupmgmt.PermIngest) || act.Can(backupmgmt.PermJobsWrite)
}

// memoKey names a kept response: the path and the query in canonical
// order, and, when it shows ping URLs, the base they are built on.
func (a *API) memoKey(r *http.Request, withPingURLs bool) string {
	k := r.URL.Path + "?" + r.URL.Query().Encode()
	if withPingURLs {
		k += "|" + a.pingBase(r)
	}
	return k
}
