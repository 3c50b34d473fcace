package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, and
// its PEM for a channel's ca_pem.
var testCert = sync.OnceValues(func() (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "custos test relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
})

// smtpOptions shape a test SMTP server.
type smtpOptions struct {
	Implicit bool // TLS from the first byte
	STARTTLS bool // offer STARTTLS
	// User and Pass, when set, are required by AUTH PLAIN before MAIL.
	User, Pass string
	Reject     []string // recipients refused with 550
	// EchoAuth makes a failed AUTH repeat what it got, as a careless relay
	// might: the password then reaches the client's error text.
	EchoAuth bool
}

// smtpMail is one message the server accepted.
type smtpMail struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool
	AuthUser string
}

// smtpServer is a small SMTP server speaking just what net/smtp needs.
type smtpServer struct {
	opts smtpOptions
	ln   net.Listener
	wg   sync.WaitGroup

	mu       sync.Mutex
	mails    []smtpMail
	authSeen int // AUTH commands received
}

func newSMTPServer(t *testing.T, opts smtpOptions) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &smtpServer{opts: opts, ln: ln}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) received() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...)
}

func (s *smtpServer) auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authSeen
}

func (s *smtpServer) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	cert, _ := testCert()
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	isTLS := false
	if s.opts.Implicit {
		conn = tls.Server(conn, tlsCfg)
		isTLS = true
	}
	tp := newTextConn(conn)
	tp.line("220 custos-test ESMTP")
	var (
		mail     smtpMail
		authUser string
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"custos-test"}
			if s.opts.STARTTLS && !isTLS {
				ext = append(ext, "STARTTLS")
			}
			if isTLS {
				ext = append(ext, "AUTH PLAIN")
			}
			ext = append(ext, "8BITMIME")
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.line("250" + sep + e)
			}
		case "HELO", "NOOP":
			tp.line("250 ok")
		case "STARTTLS":
			if !s.opts.STARTTLS || isTLS {
				tp.line("502 not offered")
				continue
			}
			tp.line("220 go ahead")
			conn = tls.Server(conn, tlsCfg)
			tp = newTextConn(conn)
			isTLS, mail, authUser = true, smtpMail{}, ""
		case "AUTH":
			s.mu.Lock()
			s.authSeen++
			s.mu.Unlock()
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != s.opts.User || parts[2] != s.opts.Pass {
				if s.opts.EchoAuth {
					tp.line("535 5.7.8 authentication failed for " + strings.ReplaceAll(string(raw), "\x00", " "))
					continue
				}
				tp.line("535 5.7.8 authentication failed")
				continue
			}
			authUser = parts[1]
			tp.line("235 2.7.0 authenticated")
		case "MAIL":
			if s.opts.User != "" && authUser == "" {
				tp.line("530 5.7.0 authentication required")
				continue
			}
			mail = smtpMail{From: angle(arg), TLS: isTLS, AuthUser: authUser}
			tp.line("250 ok")
		case "RCPT":
			to := angle(arg)
			if containsFold(s.opts.Reject, to) {
				tp.line("550 5.1.1 no such user")
				continue
			}
			mail.To = append(mail.To, to)
			tp.line("250 ok")
		case "DATA":
			tp.line("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			mail.Data = data
			s.mu.Lock()
			s.mails = append(s.mails, mail)
			s.mu.Unlock()
			tp.line("250 queued")
		case "RSET":
			mail = smtpMail{}
			tp.line("250 ok")
		case "QUIT":
			tp.line("221 bye")
			return
		default:
			tp.line("502 unknown command")
		}
	}
}

// angle returns the address in "FROM:<a@b> SIZE=1".
func angle(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

type textConn struct{ *textproto.Conn }

func newTextConn(c net.Conn) textConn { return textConn{textproto.NewConn(c)} }

func (c textConn) line(s string) { _ = c.PrintfLine("%s", s) }
