package security

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent r, normalised
// (IPv4-mapped IPv6 addresses as IPv4, no zone). It is the peer address
// (r.RemoteAddr without its port) unless the peer is in trusted: then
// X-Forwarded-For is walked from right to left, skipping trusted hops, and the
// first untrusted address is the client. Entries to the left of it were
// written by the client and are ignored. Without X-Forwarded-For a trusted
// peer's X-Real-IP is used. A forwarded entry that is not an IP address
// ends the walk at the last trusted hop. When r.RemoteAddr is not an IP
// address (a Unix socket), it is returned as it is.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseHostIP(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		// Several header lines are one list, in order (RFC 9110 §5.3).
		hops := strings.Split(strings.Join(xff, ","), ",")
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHostIP(strings.TrimSpace(hops[i]))
			if !ok {
				break
			}
			client = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
		return client.String()
	}
	if real, ok := parseHostIP(strings.TrimSpace(r.Header.Get("X-Real-IP"))); ok {
		return real.String()
	}
	return peer.String()
}

// parseHostIP parses "ip", "ip:port" or "[ipv6]:port".
func parseHostIP(s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		addr = ap.Addr()
	}
	return addr.Unmap().WithZone(""), true
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes and IP
// addresses ("10.0.0.0/8, 192.0.2.7, 2001:db8::/32"), as a server reads it
// from its configuration. Blank entries are skipped; an entry that is neither
// returns an error that names it.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(entry, "/") {
			var err error
			if p, err = netip.ParsePrefix(entry); err != nil {
				return nil, fmt.Errorf("security: trusted proxy %q is not a CIDR prefix", entry)
			}
			p = p.Masked()
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
		} else {
			addr, err := netip.ParseAddr(entry)
			if err != nil {
				return nil, fmt.Errorf("security: trusted proxy %q is not an IP address", entry)
			}
			addr = addr.Unmap().WithZone("")
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}
