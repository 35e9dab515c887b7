package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// proc is one child process the suite starts, kills and restarts.
type proc struct {
	name string
	path string
	args []string
	env  []string
	log  string
	cred *syscall.Credential
	dir  string

	mu  sync.Mutex
	cmd *exec.Cmd
}

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = p.dir
	// Own process group, so the suite's Ctrl-C does not reach it first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd = cmd
	go func() { cmd.Wait(); f.Close() }()
	return nil
}

// signal sends sig to the process and waits until it is gone.
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	for i := 0; i < 600; i++ {
		if cmd.ProcessState != nil || syscall.Kill(cmd.Process.Pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) kill() { p.signal(syscall.SIGKILL) }

// stop ends the process gracefully (SIGTERM, then SIGKILL after 10 s).
func (p *proc) stop() {
	done := make(chan struct{})
	go func() { p.signal(syscall.SIGTERM); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// postgres is a project-local Postgres cluster in dir, started from the
// OS's server binaries (as scripts/stack.sh does); as root it runs as the
// postgres user, since initdb and postgres refuse root.
type postgres struct {
	*proc
	bin, data string
	port      int
}

func newPostgres(dir string, port int) (*postgres, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, errors.New("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	base := filepath.Join(dir, "pg")
	if err := os.RemoveAll(base); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres OS user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(base, uid, gid); err != nil {
			return nil, err
		}
	}
	pg := &postgres{bin: bin, data: filepath.Join(base, "data"), port: port}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", pg.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = base
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	pg.proc = &proc{name: "postgres", path: filepath.Join(bin, "postgres"), log: filepath.Join(dir, "logs", "postgres.log"), cred: cred, dir: base,
		args: []string{"-D", pg.data, "-p", strconv.Itoa(port), "-k", base, "-c", "listen_addresses=127.0.0.1",
			"-c", "max_connections=300", "-c", "shared_buffers=128MB"}}
	return pg, nil
}

func (pg *postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// crash stops Postgres in "immediate" mode (SIGQUIT): no checkpoint, crash
// recovery on the next start, as after a power cut of the database host.
func (pg *postgres) crash() { pg.signal(syscall.SIGQUIT) }

func waitFor(ctx context.Context, what string, within time.Duration, ok func() bool) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if ok() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: not ready within %v", what, within)
}

func pgReady(url string) bool {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

func httpReady(url string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 500
}

// newRedis is a project-local Redis without persistence: a restart loses
// every queued job, the worst case the relay must survive.
func newRedis(dir string, port int) *proc {
	d := filepath.Join(dir, "redis")
	_ = os.MkdirAll(d, 0o755)
	return &proc{name: "redis", path: "redis-server", log: filepath.Join(dir, "logs", "redis.log"), dir: d,
		args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d}}
}

func redisReady(port int) bool {
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(port), "ping").Output()
	return err == nil && strings.TrimSpace(string(out)) == "PONG"
}
