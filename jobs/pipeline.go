package jobs

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// PipelinedRedis is a Redis client whose script calls (EVALSHA, EVAL)
// issued concurrently go as one pipeline: one write and one read for the
// lot instead of a round trip each. The dispatcher's enqueues go through
// it: each is one call of asynq's enqueue script, issued by several
// goroutines at once under load, and their round trips were most of the
// dispatcher's CPU (a write and a read system call per webhook). Like the
// insert stage's group commit, it never waits for company: a call issued
// alone is sent at once, and the ones issued while a pipeline is out go in
// the next. Each call keeps its own result and error (NOSCRIPT included,
// which go-redis's Script answers with EVAL). Other commands go as they
// are.
//
// Not a go-redis hook: the client runs its connection set-up commands
// through its hooks, which would then wait on the batcher that is opening
// the connection.
type PipelinedRedis struct {
	*redis.Client
	reqs chan *pipedCmd
	done chan struct{}
	max  int
}

type pipedCmd struct {
	cmd  redis.Cmder
	sent chan struct{}
}

// NewPipelinedRedis returns a client for opt that batches up to maxBatch
// concurrent script calls per pipeline. Close stops it; no command may be
// issued after Close.
func NewPipelinedRedis(opt *redis.Options, maxBatch int) *PipelinedRedis {
	if maxBatch < 1 {
		maxBatch = 1
	}
	p := &PipelinedRedis{Client: redis.NewClient(opt), reqs: make(chan *pipedCmd, maxBatch), done: make(chan struct{}), max: maxBatch}
	go p.run()
	return p
}

// EvalSha is redis.Client's, batched.
func (p *PipelinedRedis) EvalSha(ctx context.Context, sha1 string, keys []string, args ...interface{}) *redis.Cmd {
	// A pipeline that is never run builds the command exactly as the
	// client would.
	cmd := p.Client.Pipeline().EvalSha(ctx, sha1, keys, args...)
	p.send(cmd)
	return cmd
}

// Eval is redis.Client's, batched.
func (p *PipelinedRedis) Eval(ctx context.Context, script string, keys []string, args ...interface{}) *redis.Cmd {
	cmd := p.Client.Pipeline().Eval(ctx, script, keys, args...)
	p.send(cmd)
	return cmd
}

func (p *PipelinedRedis) send(cmd redis.Cmder) {
	c := &pipedCmd{cmd: cmd, sent: make(chan struct{})}
	p.reqs <- c
	// Waited for even if the caller's context ends: the batcher writes
	// the result into cmd, which the caller owns again once this returns.
	<-c.sent
}

// Close stops the batching and closes the connections.
func (p *PipelinedRedis) Close() error {
	close(p.reqs)
	<-p.done
	return p.Client.Close()
}

func (p *PipelinedRedis) run() {
	defer close(p.done)
	batch := make([]*pipedCmd, 0, p.max)
	for first := range p.reqs {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < p.max {
			select {
			case c, ok := <-p.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		// The commands' own contexts are their callers'; one caller
		// giving up must not fail the others (go-redis bounds the I/O
		// by its read and write timeouts).
		ctx := context.Background()
		pipe := p.Client.Pipeline()
		for _, c := range batch {
			_ = pipe.Process(ctx, c.cmd)
		}
		// Exec sets each command's result or error (a connection error
		// on every one of them).
		_, _ = pipe.Exec(ctx)
		for _, c := range batch {
			close(c.sent)
		}
	}
}
