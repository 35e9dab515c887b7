package testenv

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a target and can be cut and restored,
// which to the app is exactly a dependency going down and coming back.
type Proxy struct {
	target string
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	up     bool
	conns  map[net.Conn]struct{}
	closed bool
	// answer, when set, serves new connections itself instead of
	// forwarding them (see Answer).
	answer func(net.Conn)
}

// NewProxy listens on a loopback port and forwards to target.
func NewProxy(t testing.TB, target string) *Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, ln: ln, addr: ln.Addr().String(), up: true, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Cut drops every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Restore accepts connections again (and forwards them, ending Answer).
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.up = true
	p.answer = nil
	p.mu.Unlock()
}

// Answer drops every open connection and serves new ones with fn instead of
// the target, until Restore: a dependency that accepts connections but
// refuses to work (Postgres starting up, too many clients).
func (p *Proxy) Answer(fn func(net.Conn)) {
	p.Cut()
	p.mu.Lock()
	p.up = true
	p.answer = fn
	p.mu.Unlock()
}

// PostgresRefusing returns an Answer handler that plays a Postgres server
// refusing every session at startup with the given SQLSTATE, as a real one
// does while starting up (57P03), shutting down (57P01) or full (53300):
// it declines SSL, reads the startup message and sends a FATAL
// ErrorResponse (PostgreSQL protocol, "Message Formats").
func PostgresRefusing(sqlstate, message string) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		for {
			var hdr [8]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			n := int(binary.BigEndian.Uint32(hdr[:4]))
			code := binary.BigEndian.Uint32(hdr[4:])
			if n < 8 || n > 10000 {
				return
			}
			if _, err := io.CopyN(io.Discard, c, int64(n-8)); err != nil {
				return
			}
			if code == 80877103 || code == 80877104 { // SSLRequest, GSSENCRequest
				c.Write([]byte{'N'})
				continue
			}
			break
		}
		var body []byte
		for _, f := range []struct {
			t byte
			v string
		}{{'S', "FATAL"}, {'V', "FATAL"}, {'C', sqlstate}, {'M', message}} {
			body = append(body, f.t)
			body = append(body, f.v...)
			body = append(body, 0)
		}
		body = append(body, 0)
		msg := []byte{'E', 0, 0, 0, 0}
		binary.BigEndian.PutUint32(msg[1:], uint32(len(body)+4))
		c.Write(append(msg, body...))
	}
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Cut()
	p.ln.Close()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.up || p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			continue
		}
		p.mu.Lock()
		answer := p.answer
		p.mu.Unlock()
		if answer != nil {
			go answer(in)
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil || !p.track(out) {
			in.Close()
			if out != nil {
				out.Close()
			}
			continue
		}
		go func() { io.Copy(out, in); out.Close(); in.Close() }()
		go func() { io.Copy(in, out); out.Close(); in.Close() }()
	}
}
